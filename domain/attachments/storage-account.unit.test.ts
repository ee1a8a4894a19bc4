import { given } from '../../test/support/decider-spec';
import { storageAccountDecider, type StorageAccountEvent } from './storage-account';

const at = '2026-11-22T10:00:00.000Z';
const facts = {
  attachmentId: 'a-1',
  target: { kind: 'document', id: 'd-1' } as const,
  workspaceId: 'w-1',
  key: 'users/ann/documents/d-1/a-1/photo.png',
  fileName: 'photo.png',
  contentType: 'image/png',
  size: 600,
};
const add = { type: 'AddAttachment', ownerId: 'ann', ownerHasAccess: true, quotaBytes: 1_000, at, ...facts } as const;
const added: StorageAccountEvent = { type: 'AttachmentAdded', data: { ...facts, ownerId: 'ann', addedAt: at } };
const removed: StorageAccountEvent = { type: 'AttachmentRemoved', data: { attachmentId: 'a-1', ownerId: 'ann', key: facts.key, size: 600, removedAt: at, removedBy: 'bob' } };

describe('storage account', () => {
  it('adds an attachment that fits the quota', () => {
    given(storageAccountDecider).when(add).then([added]);
  });

  it('refuses one that would pass the quota, counting what is held', () => {
    given(storageAccountDecider, added).when({ ...add, attachmentId: 'a-2', key: 'k2', size: 401 }).thenFails('STORAGE.QUOTA_EXCEEDED');
    given(storageAccountDecider, added).when({ ...add, attachmentId: 'a-2', key: 'k2', size: 400 }).then([{ type: 'AttachmentAdded', data: { ...facts, attachmentId: 'a-2', key: 'k2', size: 400, ownerId: 'ann', addedAt: at } }]);
  });

  it('a removed attachment no longer counts against the quota', () => {
    given(storageAccountDecider, added, removed).when({ ...add, attachmentId: 'a-2', key: 'k2', size: 1_000 }).then([
      { type: 'AttachmentAdded', data: { ...facts, attachmentId: 'a-2', key: 'k2', size: 1_000, ownerId: 'ann', addedAt: at } },
    ]);
  });

  it('completing the same upload twice records it once; a removed one cannot come back', () => {
    given(storageAccountDecider, added).when(add).thenNothing();
    given(storageAccountDecider, added).when({ ...add, key: 'other' }).thenFails('ATTACHMENT.ALREADY_COMPLETED');
    given(storageAccountDecider, added, removed).when(add).thenFails('ATTACHMENT.ALREADY_COMPLETED');
  });

  it('without access to the target, the target does not exist', () => {
    given(storageAccountDecider).when({ ...add, ownerHasAccess: false }).thenFails('DOCUMENT.NOT_FOUND');
    given(storageAccountDecider).when({ ...add, ownerHasAccess: false, target: { kind: 'note', id: 'n-1' } }).thenFails('NOTE.NOT_FOUND');
  });

  it('removes once, by someone with access; then its object deletion is recorded once', () => {
    const remove = { type: 'RemoveAttachment', attachmentId: 'a-1', ownerId: 'ann', actorId: 'bob', actorHasAccess: true, at } as const;
    given(storageAccountDecider, added).when(remove).then([removed]);
    given(storageAccountDecider, added).when({ ...remove, actorHasAccess: false }).thenFails('ATTACHMENT.NOT_FOUND');
    given(storageAccountDecider, added, removed).when(remove).thenNothing();
    const deleted: StorageAccountEvent = { type: 'AttachmentObjectDeleted', data: { attachmentId: 'a-1', ownerId: 'ann', key: facts.key, deletedAt: at } };
    const record = { type: 'RecordObjectDeleted', attachmentId: 'a-1', ownerId: 'ann', at } as const;
    given(storageAccountDecider, added, removed).when(record).then([deleted]);
    given(storageAccountDecider, added, removed, deleted).when(record).thenNothing();
    given(storageAccountDecider, added).when(record).thenNothing();
    given(storageAccountDecider).when(record).thenFails('ATTACHMENT.NOT_FOUND');
  });
});
