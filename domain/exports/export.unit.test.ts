import { given } from '../../test/support/decider-spec';
import { exportDecider, ownedExport, type ExportEvent } from './export';
import { fold } from '../shared/decider';

const at = '2026-11-22T10:00:00.000Z';
const later = '2026-11-23T10:00:00.000Z';
const requested: ExportEvent = { type: 'ExportRequested', data: { exportId: 'e-1', ownerId: 'ann', format: 'markdown', scope: { all: true }, requestedAt: at } };
const progressed: ExportEvent = { type: 'ExportProgressed', data: { exportId: 'e-1', done: 10, total: 20, at } };
const completed: ExportEvent = { type: 'ExportCompleted', data: { exportId: 'e-1', key: 'k', fileName: 'x.zip', size: 99, items: 20, completedAt: at, expiresAt: later } };

describe('export', () => {
  it('is requested once; the same request again records nothing, another one is a conflict', () => {
    const request = { type: 'RequestExport', exportId: 'e-1', format: 'markdown', scope: { all: true }, actorId: 'ann', at } as const;
    given(exportDecider).when(request).then([requested]);
    given(exportDecider, requested).when(request).thenNothing();
    given(exportDecider, requested).when({ ...request, format: 'pdf' }).thenFails('EXPORT.ALREADY_EXISTS');
  });

  it('progress only moves forward, and only while building', () => {
    given(exportDecider, requested).when({ type: 'RecordExportProgress', done: 0, total: 20, at }).then([{ type: 'ExportProgressed', data: { exportId: 'e-1', done: 0, total: 20, at } }]);
    given(exportDecider, requested, progressed).when({ type: 'RecordExportProgress', done: 5, total: 20, at }).thenNothing();
    given(exportDecider, requested, progressed, completed).when({ type: 'RecordExportProgress', done: 15, total: 20, at }).thenNothing();
  });

  it('completes once, then expires only when its time has come', () => {
    const complete = { type: 'CompleteExport', key: 'k', fileName: 'x.zip', size: 99, items: 20, at, expiresAt: later } as const;
    given(exportDecider, requested, progressed).when(complete).then([completed]);
    given(exportDecider, requested, completed).when(complete).thenNothing();
    given(exportDecider, requested, completed).when({ type: 'ExpireExport', at }).thenFails('EXPORT.NOT_EXPIRED');
    given(exportDecider, requested, completed).when({ type: 'ExpireExport', at: later }).then([{ type: 'ExportExpired', data: { exportId: 'e-1', expiredAt: later } }]);
    given(exportDecider, requested).when({ type: 'ExpireExport', at: later }).thenNothing();
  });

  it('a failed export is not completed afterwards', () => {
    const failed: ExportEvent = { type: 'ExportFailed', data: { exportId: 'e-1', code: 'X', reason: 'y', failedAt: at } };
    given(exportDecider, requested).when({ type: 'FailExport', code: 'X', reason: 'y', at }).then([failed]);
    given(exportDecider, requested, failed).when({ type: 'CompleteExport', key: 'k', fileName: 'x.zip', size: 1, items: 1, at, expiresAt: later }).thenFails('EXPORT.NOT_BUILDING');
    given(exportDecider, requested, failed).when({ type: 'FailExport', code: 'X', reason: 'y', at }).thenNothing();
  });

  it('only its owner sees it', () => {
    const state = fold(exportDecider, [requested]);
    expect(ownedExport(state, 'ann').status).toBe('requested');
    expect(() => ownedExport(state, 'eve')).toThrow('no such export');
  });
});
