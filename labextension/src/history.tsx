/**
 * The history of a resource, as Details… shows it: what happened, in words,
 * filtered by person and kind of event, exported as CSV or JSON.
 *
 * The server decides what each person may read (the owner and managers: all
 * of it; anyone else: the rows about themselves); this view shows what it
 * answers.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IHistoryEntry, IHistoryFilter, IResource, ShareAPI } from './api';

/** Rows per page of the view (the export has them all). */
const PAGE = 100;

/** The kinds of event the filter offers, each the actions it keeps. */
export const EVENT_KINDS: ReadonlyArray<{ value: string; actions: string }> = [
  { value: 'shared', actions: 'share' },
  { value: 'changed', actions: 'change' },
  { value: 'revoked', actions: 'revoke' },
  { value: 'expired', actions: 'expire' },
  { value: 'left', actions: 'leave' },
  { value: 'link', actions: 'relink' },
  { value: 'signin', actions: 'signin' },
  { value: 'requests', actions: 'ask,approve,deny,withdraw' },
  { value: 'resource', actions: 'create,start,stop,update,delete' }
];

/** The label of a kind of event in the filter. */
function eventKindLabel(value: string, trans: TranslationBundle): string {
  switch (value) {
    case 'shared':
      return trans.__('Shared');
    case 'changed':
      return trans.__('Changed');
    case 'revoked':
      return trans.__('Revoked');
    case 'expired':
      return trans.__('Expired');
    case 'left':
      return trans.__('Left');
    case 'link':
      return trans.__('Link issued');
    case 'signin':
      return trans.__('Signed in by link');
    case 'requests':
      return trans.__('Requests asked and decided');
    case 'resource':
      return trans.__('Created, started, stopped, changed, deleted');
  }
  return value;
}

/** A principal in words: `user:bob` is bob, `group:x` the group x. */
function who(principal: string | null, trans: TranslationBundle): string {
  if (!principal) {
    return '';
  }
  const [type, name] = principal.split(':', 2);
  return type === 'group' ? trans.__('group %1', name) : name;
}

/** One history row in words ("alice shared it with bob (view)"). */
export function describeEntry(
  entry: IHistoryEntry,
  trans: TranslationBundle
): string {
  const actor = entry.actor === 'system' ? trans.__('The clock') : entry.actor;
  const principal = who(entry.principal, trans);
  const permission = entry.permission ?? '';
  switch (entry.action) {
    case 'create':
      return trans.__('%1 created it', actor);
    case 'start':
      return trans.__('%1 started it', actor);
    case 'stop':
      return trans.__('%1 stopped it', actor);
    case 'update':
      return trans.__('%1 changed it', actor);
    case 'delete':
      return trans.__('%1 deleted it', actor);
    case 'share':
      return trans.__(
        '%1 shared it with %2 (%3)',
        actor,
        principal,
        permission
      );
    case 'change':
      return trans.__(
        '%1 changed the access of %2 to %3',
        actor,
        principal,
        permission
      );
    case 'revoke':
      return trans.__('%1 revoked %2 (%3)', actor, principal, permission);
    case 'leave':
      return trans.__('%1 left (%2)', principal, permission);
    case 'expire':
      return trans.__('The access of %1 (%2) expired', principal, permission);
    case 'relink':
      return trans.__('%1 issued a new link for %2', actor, principal);
    case 'signin':
      return entry.address
        ? trans.__('%1 signed in by link from %2', principal, entry.address)
        : trans.__('%1 signed in by link', principal);
    case 'ask':
      return trans.__('%1 asked for %2', principal, permission);
    case 'approve':
      return trans.__(
        '%1 approved the request of %2 for %3',
        actor,
        principal,
        permission
      );
    case 'deny':
      return trans.__(
        '%1 denied the request of %2 for %3',
        actor,
        principal,
        permission
      );
    case 'withdraw':
      return trans.__('%1 withdrew the request for %2', principal, permission);
  }
  return `${actor} ${entry.action} ${principal} ${permission}`.trim();
}

/** Save text as a file in the browser's downloads. */
function download(filename: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The message of a failed call. */
function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * The history of one resource, with its filters and export buttons.
 */
export function HistoryView(props: {
  api: ShareAPI;
  resource: IResource;
  trans: TranslationBundle;
}): JSX.Element {
  const { api, resource, trans } = props;
  const [person, setPerson] = React.useState('');
  const [kind, setKind] = React.useState('');
  const [entries, setEntries] = React.useState<IHistoryEntry[]>([]);
  const [total, setTotal] = React.useState(0);
  const [busy, setBusy] = React.useState(true);
  const [error, setError] = React.useState<string | null>(null);
  // People seen in the history, for the person field's suggestions.
  const [people, setPeople] = React.useState<string[]>([]);

  const filter = React.useMemo<IHistoryFilter>(
    () => ({
      person: person.trim(),
      action: EVENT_KINDS.find(k => k.value === kind)?.actions ?? ''
    }),
    [person, kind]
  );

  const load = React.useCallback(
    async (offset: number) => {
      setBusy(true);
      try {
        const page = await api.history(resource.kind, resource.id, {
          ...filter,
          offset,
          limit: PAGE
        });
        setEntries(old => (offset ? [...old, ...page.items] : page.items));
        setTotal(page.total);
        setError(null);
        setPeople(old => {
          const seen = new Set(old);
          for (const e of page.items) {
            if (e.actor !== 'system') {
              seen.add(e.actor);
            }
            if (e.principal) {
              seen.add(
                e.principal.startsWith('user:')
                  ? e.principal.slice(5)
                  : e.principal
              );
            }
          }
          return Array.from(seen).sort();
        });
      } catch (reason) {
        setError(messageOf(reason));
      } finally {
        setBusy(false);
      }
    },
    [api, resource.kind, resource.id, filter]
  );

  // Typing a name asks again once the typing pauses.
  React.useEffect(() => {
    const timer = window.setTimeout(() => void load(0), 250);
    return () => window.clearTimeout(timer);
  }, [load]);

  const exportCSV = async () => {
    try {
      const file = await api.historyCSV(resource.kind, resource.id, filter);
      download(file.filename, file.contentType, file.content);
    } catch (reason) {
      setError(messageOf(reason));
    }
  };

  const exportJSON = async () => {
    try {
      const items = await api.historyAll(resource.kind, resource.id, filter);
      download(
        'history.json',
        'application/json',
        JSON.stringify({ items, total: items.length }, null, 2)
      );
    } catch (reason) {
      setError(messageOf(reason));
    }
  };

  const listId = `jp-share-history-people-${resource.id}`;
  return (
    <section
      className="jp-share-history"
      aria-label={trans.__('History')}
      aria-busy={busy}
    >
      <h3 className="jp-share-access-title">{trans.__('History')}</h3>
      <div className="jp-share-history-filters">
        <label>
          {trans.__('Person')}
          <input
            className="jp-mod-styled jp-share-history-person"
            type="search"
            list={listId}
            value={person}
            placeholder={trans.__('everyone')}
            onChange={event => setPerson(event.target.value)}
          />
          <datalist id={listId}>
            {people.map(name => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <label>
          {trans.__('Event')}
          <select
            className="jp-mod-styled jp-share-history-kind"
            value={kind}
            onChange={event => setKind(event.target.value)}
          >
            <option value="">{trans.__('all events')}</option>
            {EVENT_KINDS.map(k => (
              <option key={k.value} value={k.value}>
                {eventKindLabel(k.value, trans)}
              </option>
            ))}
          </select>
        </label>
        <span className="jp-share-history-export">
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject jp-share-history-csv"
            onClick={() => void exportCSV()}
          >
            {trans.__('Export CSV')}
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject jp-share-history-json"
            onClick={() => void exportJSON()}
          >
            {trans.__('Export JSON')}
          </button>
        </span>
      </div>
      {error && (
        <div className="jp-share-error" role="alert">
          {error}
        </div>
      )}
      {!busy && !error && entries.length === 0 ? (
        <p className="jp-share-history-empty">
          {filter.person || filter.action
            ? trans.__('Nothing in the history matches.')
            : trans.__('Nothing in the history that you may see.')}
        </p>
      ) : (
        <ol className="jp-share-history-list">
          {entries.map((entry, index) => (
            <li
              key={`${entry.at}-${index}`}
              className="jp-share-history-entry"
              data-action={entry.action}
            >
              <time dateTime={entry.at}>
                {new Date(entry.at).toLocaleString()}
              </time>
              <span className="jp-share-history-text">
                {describeEntry(entry, trans)}
              </span>
            </li>
          ))}
        </ol>
      )}
      <div className="jp-share-history-footer">
        <span className="jp-share-history-count">
          {trans.__('%1 of %2 events', entries.length, total)}
        </span>
        {entries.length < total && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject"
            disabled={busy}
            onClick={() => void load(entries.length)}
          >
            {trans.__('Show more')}
          </button>
        )}
      </div>
    </section>
  );
}
