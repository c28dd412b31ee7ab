/**
 * Changes made anywhere, told to the owner: the server's change stream
 * updates the panel's rows and says what ended my access; presence events say
 * who came in and left; a reminder before my access to something runs out.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';

import { ChangeFeed, IFeedMessage } from './feed';
import { SharingModel } from './model';
import { ExpiryReminder, ownerChangeWords, presenceWords } from './notices';
import { PRESENCE_SCHEMA_ID } from './presence';

/**
 * Changes made anywhere (another neighbour's server, the CLI, the Hub's
 * service) reach the panel by the server's change stream: the row it names is
 * read again at once; polling stays as a slow fallback.
 */
export function followChanges(
  app: JupyterFrontEnd,
  model: SharingModel,
  trans: TranslationBundle
): void {
  const feed = new ChangeFeed(app.serviceManager.serverSettings);
  feed.received.connect((_, change) => {
    void model.applyChange(change).catch(() => model.scheduleRefresh());
    const words =
      lostAccessWords(change, trans) ??
      ownerChangeWords(change, model.me?.username ?? null, trans);
    if (words) {
      Notification.info(words, { autoClose: 10000 });
    }
  });
  // Who signs in to my container, and who is gone from it, in words.
  app.serviceManager.events.stream.connect(
    (_: Event.IManager, event: Event.Emission) => {
      const words =
        event.schema_id === PRESENCE_SCHEMA_ID
          ? presenceWords(event, trans)
          : null;
      if (words) {
        Notification.info(words, { autoClose: 8000 });
      }
    }
  );
  // An hour before my access to something shared with me ends: say so.
  const reminder = new ExpiryReminder(trans);
  model.changed.connect(() => reminder.watchShared(model.shared));
  // Changes made while the stream was lost were not told: read the lists.
  feed.reconnected.connect(() => model.scheduleRefresh());
  feed.start();
}

/** "alice revoked your access to image CARET", for changes that end mine. */
export function lostAccessWords(
  change: IFeedMessage,
  trans: TranslationBundle
): string | null {
  if (change.list !== 'shared-with-me' || change.access !== null) {
    return null;
  }
  const what = change.resource_name
    ? trans.__('%1 %2', change.kind, change.resource_name)
    : trans.__('a %1', change.kind);
  switch (change.action) {
    case 'revoke':
      return change.actor
        ? trans.__('%1 revoked your access to %2', change.actor, what)
        : trans.__('Your access to %1 was revoked', what);
    case 'expire':
      return trans.__('Your access to %1 expired', what);
    case 'delete':
      return trans.__('%1 was deleted by its owner', what);
    default:
      return null;
  }
}
