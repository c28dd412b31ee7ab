/**
 * A guest's banner: whose container they are in and what they may do there.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { addAskButton, addAskLink } from './askbutton';

/** "You are in alice's container, view only": a guest's banner at the top. */
export function showGuestBanner(
  app: JupyterFrontEnd,
  owner: string,
  permission: string,
  mode: 'standalone' | 'hub',
  trans: TranslationBundle
): void {
  const banner = new Widget();
  banner.id = 'jupyter-share-guest-banner';
  banner.addClass('jp-share-guest-banner');
  banner.node.setAttribute('role', 'status');
  const text = document.createElement('span');
  text.className = 'jp-share-guest-banner-text';
  text.textContent = guestBannerText(owner, permission, null, trans);
  banner.node.appendChild(text);
  if (mode === 'hub') {
    addAskLink(banner.node, owner, permission, trans);
  } else {
    addAskButton(
      banner.node,
      app.serviceManager.serverSettings,
      owner,
      permission,
      trans
    );
  }
  app.shell.add(banner, 'top', { rank: 1000 });
}

/** The banner's words: whose container, what the guest may do, until when. */
export function guestBannerText(
  owner: string,
  permission: string,
  expiresAt?: string | null,
  trans: TranslationBundle = nullTranslator.load('jupyter_share')
): string {
  const rights =
    permission === 'view'
      ? trans.__('view only')
      : permission === 'edit'
        ? trans.__('you may edit and run code')
        : trans.__('you may edit, run code and share it');
  return expiresAt
    ? trans.__(
        "You are in %1's container, %2 until %3",
        owner,
        rights,
        new Date(expiresAt).toLocaleString()
      )
    : trans.__("You are in %1's container, %2", owner, rights);
}
