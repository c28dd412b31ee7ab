/**
 * The notifications' words, and the reminder an hour before access ends.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { IResource } from '../api';
import { IFeedMessage } from '../feed';
import {
  ExpiryReminder,
  inWords,
  ownerChangeWords,
  presenceWords,
  REMIND_BEFORE_MS
} from '../notices';

const trans = nullTranslator.load('jupyter_share');

function change(extra: Partial<IFeedMessage>): IFeedMessage {
  return {
    id: 1,
    action: 'leave',
    kind: 'image',
    resource_id: 'r1',
    list: 'owned',
    access: 'owner',
    resource_name: 'CARET',
    owner: 'alice',
    actor: 'bob',
    ...extra
  } as IFeedMessage;
}

describe('notices', () => {
  it('says who signed in to my container and who is gone', () => {
    expect(presenceWords({ action: 'sign-in', guest: 'bob' }, trans)).toBe(
      'bob signed in to your container'
    );
    expect(presenceWords({ action: 'gone', guest: 'bob' }, trans)).toBe(
      'bob left your container: their access ended'
    );
    expect(presenceWords({ action: 'open', guest: 'bob' }, trans)).toBeNull();
    expect(presenceWords({ action: 'sign-in' }, trans)).toBeNull();
  });

  it('says a neighbour left what I shared, not what I did myself', () => {
    expect(ownerChangeWords(change({}), 'alice', trans)).toBe(
      'bob left image CARET'
    );
    expect(ownerChangeWords(change({ actor: 'alice' }), 'alice', trans)).toBe(
      null
    );
    expect(
      ownerChangeWords(change({ list: 'shared-with-me' }), 'alice', trans)
    ).toBeNull();
    expect(
      ownerChangeWords(change({ action: 'share' }), 'alice', trans)
    ).toBeNull();
  });

  it('says how far away an end is', () => {
    expect(inWords(60 * 60 * 1000, trans)).toBe('in 1 hour');
    expect(inWords(3 * 60 * 60 * 1000, trans)).toBe('in 3 hours');
    expect(inWords(12 * 60 * 1000, trans)).toBe('in 12 minutes');
  });
});

describe('ExpiryReminder', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function shared(expires_at: string | null): IResource {
    return {
      id: 'c1',
      kind: 'session',
      name: 'alice-workstation',
      owner: 'alice',
      expires_at
    } as IResource;
  }

  it('reminds once, an hour before the end', () => {
    const told: string[] = [];
    const now = Date.parse('2026-12-06T10:00:00Z');
    jest.setSystemTime(now);
    const reminder = new ExpiryReminder(trans, t => told.push(t));
    const ends = '2026-12-06T13:00:00Z';
    reminder.watchShared([shared(ends)]);
    reminder.watchShared([shared(ends)]); // the same end: one reminder
    jest.advanceTimersByTime(2 * 60 * 60 * 1000 - 1000);
    expect(told).toEqual([]);
    jest.advanceTimersByTime(2000);
    expect(told).toEqual([
      "Your access to alice's container alice-workstation ends in 1 hour"
    ]);
    jest.advanceTimersByTime(REMIND_BEFORE_MS);
    expect(told.length).toBe(1);
  });

  it('reminds at once when less than an hour is left, and not for no end', () => {
    const told: string[] = [];
    const now = Date.parse('2026-12-06T10:00:00Z');
    jest.setSystemTime(now);
    const reminder = new ExpiryReminder(trans, t => told.push(t));
    reminder.watchShared([shared(null)]);
    reminder.watch('x', 'X', '2026-12-06T09:00:00Z'); // already over
    reminder.watch('y', 'Y', '2026-12-06T10:12:00Z');
    jest.advanceTimersByTime(0);
    expect(told).toEqual(['Your access to Y ends in 12 minutes']);
  });

  it('forgets what is no longer shared, and reminds of a changed end', () => {
    const told: string[] = [];
    jest.setSystemTime(Date.parse('2026-12-06T10:00:00Z'));
    const reminder = new ExpiryReminder(trans, t => told.push(t));
    reminder.watchShared([shared('2026-12-06T12:00:00Z')]);
    reminder.watchShared([]); // revoked meanwhile
    jest.advanceTimersByTime(3 * 60 * 60 * 1000);
    expect(told).toEqual([]);
    reminder.watchShared([shared('2026-12-06T13:30:00Z')]);
    jest.advanceTimersByTime(0);
    expect(told).toEqual([
      "Your access to alice's container alice-workstation ends in 30 minutes"
    ]);
  });
});
