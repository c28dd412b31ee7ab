/**
 * The jupyter_share JupyterLab extension: the owner's Sharing panel (see
 * sharing.ts, commands/, panel/, dialogs/), and for a guest in someone else's
 * container a banner and guest mode (guestbanner.ts, guestmode.ts).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ShareAPI } from './api';
import { buildStatusPlugin } from './buildstatusplugin';
import { followChanges } from './changes';
import { guestBannerText, showGuestBanner } from './guestbanner';
import { guestModePlugin } from './guestmode';
import { ExpiryReminder } from './notices';
import { PLUGIN_ID, startSharing } from './sharing';

/**
 * The Sharing panel, its commands, and notifications of new shares.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Share containers, images and formations with other users.',
  autoStart: true,
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IStateDB,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_share');
    const api = new ShareAPI(app.serviceManager.serverSettings);
    // The owner of this container: the panel, and changes told as they come.
    const owner = () => {
      const model = startSharing(
        app,
        api,
        settingRegistry,
        palette,
        restorer,
        state,
        translator
      );
      followChanges(app, model, trans);
    };
    // A guest (signed in by a personal link) is in someone else's container: they get a
    // banner that says so, and share from their own server instead.
    api.me().then(me => {
      if (me.guest) {
        showGuestBanner(
          app,
          me.guest.owner,
          me.guest.permission,
          me.mode,
          trans
        );
        new ExpiryReminder(trans).watch(
          `guest:${me.guest.owner}`,
          trans.__("%1's container", me.guest.owner),
          me.guest.expires_at
        );
      } else {
        owner();
      }
    }, owner);
  }
};

export default [plugin, guestModePlugin(guestBannerText), buildStatusPlugin];
