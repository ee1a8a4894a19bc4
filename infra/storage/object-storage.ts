/**
 * The object store adapter: one S3-compatible bucket (AWS S3, MinIO, R2, ...) reached with the AWS SDK.
 * It signs what clients send straight to the bucket (a presigned POST whose policy pins the key, the
 * exact content type and the length; or a presigned PUT that signs type and length), signs short-lived
 * downloads, checks what arrived (HEAD), deletes, and streams large objects up as multipart uploads so
 * that memory does not grow with their size.
 *
 * Presigned URLs are signed for `publicEndpoint` when one is set: inside a container network the
 * service may reach the bucket at another address than the clients do.
 */
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface ObjectStorageSettings {
  readonly endpoint?: string;
  /** What clients use to reach the bucket (presigned URLs are signed for it); default: `endpoint`. */
  readonly publicEndpoint?: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly forcePathStyle: boolean;
}

export interface PresignedPost {
  readonly method: 'POST';
  readonly url: string;
  /** Form fields to send before the file, exactly as given. */
  readonly fields: Record<string, string>;
}

export interface PresignedPut {
  readonly method: 'PUT';
  readonly url: string;
  /** Headers the upload must carry: they are part of the signature. */
  readonly headers: Record<string, string>;
}

export interface ObjectHead {
  readonly size: number;
  readonly contentType: string | undefined;
}

export interface UploadTerms {
  readonly key: string;
  readonly contentType: string;
  /** The exact length the upload must have. */
  readonly size: number;
  readonly expiresInSeconds: number;
}

export class ObjectStorage {
  private readonly client: S3Client;
  private readonly signer: S3Client;

  constructor(readonly settings: ObjectStorageSettings) {
    this.client = clientFor(settings, settings.endpoint);
    this.signer = settings.publicEndpoint && settings.publicEndpoint !== settings.endpoint ? clientFor(settings, settings.publicEndpoint) : this.client;
  }

  get bucket(): string {
    return this.settings.bucket;
  }

  /** A browser-style form upload: the policy admits this key, this content type and this length only. */
  async presignPost(terms: UploadTerms): Promise<PresignedPost> {
    const { url, fields } = await createPresignedPost(this.signer, {
      Bucket: this.bucket,
      Key: terms.key,
      Conditions: [
        { bucket: this.bucket },
        ['eq', '$key', terms.key],
        ['eq', '$Content-Type', terms.contentType],
        ['content-length-range', terms.size, terms.size],
      ],
      Fields: { 'Content-Type': terms.contentType },
      Expires: terms.expiresInSeconds,
    });
    return { method: 'POST', url, fields };
  }

  /** A plain PUT whose signature covers the content type and the content length. */
  async presignPut(terms: UploadTerms): Promise<PresignedPut> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: terms.key, ContentType: terms.contentType, ContentLength: terms.size });
    const url = await getSignedUrl(this.signer, command, {
      expiresIn: terms.expiresInSeconds,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return { method: 'PUT', url, headers: { 'Content-Type': terms.contentType, 'Content-Length': String(terms.size) } };
  }

  /** A download link; `fileName` becomes the saved file's name. */
  presignGet(key: string, expiresInSeconds: number, fileName?: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(fileName ? { ResponseContentDisposition: contentDisposition(fileName) } : {}),
    });
    return getSignedUrl(this.signer, command, { expiresIn: expiresInSeconds });
  }

  /** The object's size and type, or undefined when there is no such object. */
  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: Number(head.ContentLength ?? 0), contentType: head.ContentType };
    } catch (error) {
      if (error instanceof NotFound || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) return undefined;
      throw error;
    }
  }

  /** Deletes the object; deleting one that is gone already is no error (S3's own semantics). */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async read(key: string): Promise<Buffer> {
    const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  }

  /**
   * Streams `body` into the object as a multipart upload: parts of `partSizeBytes` (at least 5 MiB),
   * at most two in flight, so memory stays near two parts whatever the object's size.
   */
  async uploadStream(key: string, body: Readable, contentType: string, partSizeBytes = 5 * 1024 * 1024): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      queueSize: 2,
      partSize: Math.max(partSizeBytes, 5 * 1024 * 1024),
      leavePartsOnError: false,
    });
    await upload.done();
  }
}

function clientFor(settings: ObjectStorageSettings, endpoint: string | undefined): S3Client {
  return new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(endpoint ? { endpoint } : {}),
    ...(settings.accessKeyId && settings.secretAccessKey ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } } : {}),
    // Checksums only where S3 demands them: a presigned URL must not oblige the client to send one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * RFC 6266 with an ASCII name only: characters outside ASCII, quotes and `!'()*` become `_`. (The
 * UTF-8 `filename*` form needs a `'`, which some S3-compatible servers canonicalize wrongly when
 * checking a presigned URL's signature.)
 */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\!'()*]/g, '_');
  return `attachment; filename="${ascii}"`;
}
