/**
 * "Ask for edit" on a guest's banner: a guest in someone else's container asks
 * its owner for more (edit, then manage), sees that the request is open, may
 * withdraw it, and is told when the owner decides. The guest's JupyterLab
 * itself follows the new permission (guestmode.ts).
 */
import { Notification } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';

import { IMe, ShareAPI } from './api';
import { showAskDialog } from './askdialog';
import { NULL_TRANS } from './model';
import { IAccessRequest, nextPermission, RequestsAPI } from './requests';

/** How often an open request is looked at (ms); a view guest gets no events. */
const WHILE_OPEN = 2000;

/**
 * The event on the banner's node when the guest's permission changed
 * (guestmode.ts follows /me); its detail is the new permission. The button
 * then offers what is above it: the owner may change the grant without any
 * request (a raise, or lowering edit back to view).
 */
export const PERMISSION_CHANGED = 'jupyter-share-permission-changed';

/**
 * Add the button to the banner's node. The container is `sessions/current`
 * of this page's server.
 */
export function addAskButton(
  node: HTMLElement,
  settings: ServerConnection.ISettings,
  owner: string,
  permission: string,
  trans: TranslationBundle = NULL_TRANS
): void {
  const api = new RequestsAPI(settings);
  const share = new ShareAPI(settings);
  const box = document.createElement('span');
  box.className = 'jp-share-ask';
  const note = document.createElement('span');
  note.className = 'jp-share-ask-note';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-share-ask-button jp-mod-styled';
  box.append(note, button);
  node.appendChild(box);

  let held = permission;
  let open: IAccessRequest | null = null;
  let timer = 0;

  const show = () => {
    const next = nextPermission(held);
    box.hidden = next === null && open === null;
    if (open) {
      note.textContent = trans.__('You asked for %1', open.permission);
      button.textContent = trans.__('Withdraw');
      button.title = trans.__('Take your request back');
    } else {
      note.textContent = '';
      button.textContent = next
        ? trans.__('Ask for %1', next)
        : trans.__('Ask for more');
      button.title = trans.__('Ask %1 for %2 permission', owner, next);
    }
  };

  const look = async () => {
    window.clearTimeout(timer);
    let mine: IAccessRequest[] = [];
    let me: IMe | null = null;
    try {
      [mine, me] = await Promise.all([
        api.on('session', 'current'),
        share.me()
      ]);
    } catch {
      return; // access ended: guestmode.ts shows the page that says so
    }
    const before = open;
    const was = held;
    open = mine[0] ?? null;
    held = me.guest?.permission ?? held;
    if (before && !open) {
      if (rank(held) >= rank(before.permission)) {
        Notification.success(
          held === 'manage'
            ? trans.__(
                '%1 approved: you may now edit, run code and share here',
                owner
              )
            : trans.__(
                '%1 approved: you may now edit and run code here',
                owner
              ),
          { autoClose: 8000 }
        );
      } else if (rank(held) <= rank(was)) {
        Notification.info(
          trans.__('%1 declined your request for %2', owner, before.permission),
          { autoClose: 8000 }
        );
      }
    }
    show();
    if (open) {
      timer = window.setTimeout(() => void look(), WHILE_OPEN);
    }
  };

  button.addEventListener('click', async () => {
    if (open) {
      const withdrawn = open;
      try {
        await api.withdraw('session', 'current', withdrawn.requester);
      } catch (reason: any) {
        Notification.error(
          trans.__('Could not withdraw: %1', reason?.message ?? reason)
        );
      }
      open = null;
      show();
      return;
    }
    const asked = await showAskDialog(
      api,
      {
        kind: 'session',
        id: 'current',
        name: trans.__("%1's container", owner),
        owner,
        access: held
      },
      trans
    );
    if (asked) {
      open = asked;
      show();
      timer = window.setTimeout(() => void look(), WHILE_OPEN);
    }
  });

  node.addEventListener(PERMISSION_CHANGED, event => {
    const now = (event as CustomEvent<string>).detail;
    if (now && now !== held) {
      // An open request is looked at again: what just changed may be its answer.
      const answered = open !== null;
      if (!answered) {
        held = now;
      }
      show();
      if (answered) {
        void look();
      }
    }
  });

  show();
  void look(); // a request left open on an earlier visit
}

function rank(permission: string | null | undefined): number {
  return ['view', 'edit', 'manage'].indexOf(permission ?? '') + 1;
}

/**
 * Under JupyterHub a guest asks from their own JupyterLab (the owner's server
 * offers guests /me only, and the share service takes only the asker's own
 * token): the banner links there, to the Sharing panel's *Shared with me*,
 * where the owner's container offers "Ask for edit".
 */
export function addAskLink(
  node: HTMLElement,
  owner: string,
  permission: string,
  trans: TranslationBundle = NULL_TRANS
): void {
  const box = document.createElement('span');
  box.className = 'jp-share-ask';
  const link = document.createElement('a');
  link.className = 'jp-share-ask-link';
  link.target = '_blank';
  link.rel = 'noopener';
  // The Hub's user-redirect opens the signed-in user's own server.
  link.href =
    PageConfig.getOption('hubHost') +
    URLExt.join(
      PageConfig.getOption('hubPrefix') || '/hub/',
      'user-redirect/lab'
    );
  const show = (held: string) => {
    const next = nextPermission(held);
    box.hidden = next === null;
    link.textContent = next
      ? trans.__('Ask for %1 in your JupyterLab', next)
      : trans.__('Ask for more in your JupyterLab');
    link.title = trans.__(
      "Your Sharing panel, Shared with me: %1's container, Ask for %2",
      owner,
      next
    );
  };
  box.appendChild(link);
  node.appendChild(box);
  node.addEventListener(PERMISSION_CHANGED, event =>
    show((event as CustomEvent<string>).detail)
  );
  show(permission);
}
