/**
 * The history's rows in words.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { IHistoryEntry } from '../api';
import { describeEntry, EVENT_KINDS } from '../history';

const trans = nullTranslator.load('jupyter_share');

function entry(fields: Partial<IHistoryEntry>): IHistoryEntry {
  return {
    at: '2026-12-06T10:00:00.000Z',
    actor: 'alice',
    action: 'share',
    principal: 'user:bob',
    permission: 'view',
    address: null,
    ...fields
  };
}

describe('describeEntry', () => {
  it('says what happened in words', () => {
    expect(describeEntry(entry({}), trans)).toBe(
      'alice shared it with bob (view)'
    );
    expect(describeEntry(entry({ principal: 'group:class-2026' }), trans)).toBe(
      'alice shared it with group class-2026 (view)'
    );
    expect(
      describeEntry(
        entry({ action: 'signin', actor: 'bob', address: '10.0.0.7' }),
        trans
      )
    ).toBe('bob signed in by link from 10.0.0.7');
    expect(
      describeEntry(entry({ action: 'expire', actor: 'system' }), trans)
    ).toBe('The access of bob (view) expired');
    expect(describeEntry(entry({ action: 'leave', actor: 'bob' }), trans)).toBe(
      'bob left (view)'
    );
    expect(describeEntry(entry({ action: 'relink' }), trans)).toBe(
      'alice issued a new link for bob'
    );
  });

  it('offers every action of the API in one kind of event', () => {
    const actions: string[] = [];
    EVENT_KINDS.forEach(k => actions.push(...k.actions.split(',')));
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions.sort()).toEqual(
      [
        'create',
        'start',
        'stop',
        'update',
        'delete',
        'share',
        'change',
        'revoke',
        'leave',
        'expire',
        'relink',
        'signin',
        'ask',
        'approve',
        'deny',
        'withdraw'
      ].sort()
    );
  });
});
