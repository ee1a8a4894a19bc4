/**
 * The storage settings the attachment and export code needs, built once from the configuration: the
 * bucket (or none: storage is off, and every storage route answers 503 `STORAGE.DISABLED` once the
 * request is otherwise valid and allowed), what uploads may be, and how long signed URLs and exports live.
 */
import type { Config } from '../config/config';
import { Problem } from '../http/problem';
import { ObjectStorage } from './object-storage';

export interface StoragePolicy {
  readonly storage: ObjectStorage | undefined;
  readonly allowedContentTypes: readonly string[];
  readonly maxUploadBytes: number;
  readonly quotaBytes: number;
  readonly uploadUrlSeconds: number;
  readonly downloadUrlSeconds: number;
  readonly exportExpiryHours: number;
}

export function storagePolicyFrom(config: Config): StoragePolicy {
  return {
    storage: config.STORAGE_BUCKET
      ? new ObjectStorage({
          bucket: config.STORAGE_BUCKET,
          region: config.STORAGE_REGION,
          endpoint: config.STORAGE_ENDPOINT,
          publicEndpoint: config.STORAGE_PUBLIC_ENDPOINT,
          accessKeyId: config.STORAGE_ACCESS_KEY_ID,
          secretAccessKey: config.STORAGE_SECRET_ACCESS_KEY,
          forcePathStyle: config.STORAGE_FORCE_PATH_STYLE,
        })
      : undefined,
    allowedContentTypes: config.UPLOAD_ALLOWED_CONTENT_TYPES,
    maxUploadBytes: config.UPLOAD_MAX_BYTES,
    quotaBytes: config.STORAGE_QUOTA_BYTES,
    uploadUrlSeconds: config.UPLOAD_URL_EXPIRY_SECONDS,
    downloadUrlSeconds: config.DOWNLOAD_URL_EXPIRY_SECONDS,
    exportExpiryHours: config.EXPORT_EXPIRY_HOURS,
  };
}

/**
 * How long after its URLs expired an upload that was never completed is deleted. Generous, so that a
 * slow upload begun just before the expiry can still finish and be completed; completion refuses after it.
 */
export const UNCOMPLETED_UPLOAD_GRACE_MS = 60 * 60 * 1000;

/** The bucket, or 503 when none is configured. */
export function requireStorage(policy: StoragePolicy): ObjectStorage {
  if (!policy.storage) {
    throw new Problem('unavailable', 'STORAGE.DISABLED', 'object storage is not configured on this server (set STORAGE_BUCKET and the other STORAGE_* variables)');
  }
  return policy.storage;
}

/** Object keys of attachments: every user's uploads live under their own prefix. */
export const attachmentKeys = {
  prefixOf: (ownerId: string) => `users/${ownerId}/`,
  build: (ownerId: string, kind: 'document' | 'note', targetId: string, attachmentId: string, fileName: string) =>
    `users/${ownerId}/${kind}s/${targetId}/${attachmentId}/${fileName}`,
  parse(key: string): { ownerId: string; kind: 'document' | 'note'; targetId: string; attachmentId: string; fileName: string } | undefined {
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    const match = new RegExp(`^users/(${uuid})/(document|note)s/(${uuid})/(${uuid})/([^/]{1,200})$`).exec(key);
    if (!match) return undefined;
    return { ownerId: match[1]!, kind: match[2] as 'document' | 'note', targetId: match[3]!, attachmentId: match[4]!, fileName: match[5]! };
  },
};

/** A file name safe as the last segment of a key: no slashes, controls or dot-only names; at most 120 characters. */
export function safeFileName(name: string): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .trim()
    .slice(0, 120);
  return cleaned === '' || /^\.+$/.test(cleaned) ? 'file' : cleaned;
}
