/**
 * The Share dialog of a resource: a JupyterLab `Dialog` whose body is the
 * React `ShareForm`.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IResource, ShareAPI } from '../api';
import { kindLabel, NULL_TRANS, SharingModel } from '../model';
import { ShareForm } from './shareform';

/**
 * A dialog whose body handles Enter and Escape itself where it needs to: in
 * its forms Enter submits the form (not the dialog), and Escape closes an
 * open completion list (not the dialog).
 */
class ShareDialog extends Dialog<void> {
  protected _evtKeydown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    const form = target?.closest('.jp-share-form');
    if (form && this.node.contains(form)) {
      if (event.key === 'Enter' && !(target instanceof HTMLButtonElement)) {
        return;
      }
      if (
        event.key === 'Escape' &&
        target?.getAttribute('aria-expanded') === 'true'
      ) {
        return;
      }
    }
    super._evtKeydown(event);
  }
}

/**
 * Open the Share dialog of a resource I may manage.
 */
export async function showShareDialog(options: {
  api: ShareAPI;
  model: SharingModel;
  resource: IResource;
  trans?: TranslationBundle;
}): Promise<void> {
  const { resource } = options;
  const trans = options.trans ?? NULL_TRANS;
  const body = new ShareDialogBody({ ...options, trans });
  const dialog = new ShareDialog({
    title: trans.__(
      'Share %1 “%2”',
      kindLabel(resource.kind, trans),
      resource.name
    ),
    body,
    buttons: [Dialog.okButton({ label: trans.__('Done') })],
    focusNodeSelector: 'input[name="principal"]',
    hasClose: true
  });
  dialog.addClass('jp-share-dialog');
  await dialog.launch();
  dialog.dispose();
}

class ShareDialogBody extends ReactWidget {
  constructor(
    private _options: {
      api: ShareAPI;
      model: SharingModel;
      resource: IResource;
      trans: TranslationBundle;
    }
  ) {
    super();
    this.addClass('jp-share-dialog-body');
  }

  protected render(): JSX.Element {
    return <ShareForm {...this._options} />;
  }
}
