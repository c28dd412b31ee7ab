/**
 * "Ask for edit": the dialog in which a neighbour asks the owner of something
 * shared with them for more, with an optional message.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { Access, Kind, Permission } from './api';
import { kindLabel, NULL_TRANS } from './model';
import { IAccessRequest, nextPermission, RequestsAPI } from './requests';

/** What to ask about. */
export interface IAskTarget {
  kind: Kind;
  /** The resource's id (`current`: the container this page is in). */
  id: string;
  name: string;
  owner: string;
  /** What the asker holds now. */
  access: Access | string;
}

/** The longest message the server takes. */
const MAX_MESSAGE = 1000;

/** The dialog's body: the permission (above what one holds) and a message. */
class AskBody
  extends Widget
  implements Dialog.IBodyWidget<{ permission: Permission; message: string }>
{
  constructor(target: IAskTarget, trans: TranslationBundle) {
    super();
    this.addClass('jp-share-ask-body');
    const first = nextPermission(target.access) ?? 'manage';
    const label = document.createElement('label');
    label.textContent = trans.__('Permission ');
    this._permission = document.createElement('select');
    this._permission.className = 'jp-share-ask-permission';
    for (const p of first === 'edit' ? ['edit', 'manage'] : ['manage']) {
      const option = document.createElement('option');
      option.value = p;
      option.textContent =
        p === 'edit'
          ? target.kind === 'session'
            ? trans.__('edit: change files and run code')
            : trans.__('edit: change it')
          : trans.__('manage: also share it');
      this._permission.appendChild(option);
    }
    label.appendChild(this._permission);
    this._message = document.createElement('textarea');
    this._message.className = 'jp-share-ask-message';
    this._message.placeholder = trans.__(
      'Why (optional): %1 reads this',
      target.owner
    );
    this._message.maxLength = MAX_MESSAGE;
    this._message.rows = 3;
    this.node.append(label, this._message);
  }

  getValue(): { permission: Permission; message: string } {
    return {
      permission: this._permission.value as Permission,
      message: this._message.value.trim()
    };
  }

  private _permission: HTMLSelectElement;
  private _message: HTMLTextAreaElement;
}

/**
 * Ask for more on `target`; the open request, or null when cancelled or
 * refused (the refusal is shown).
 */
export async function showAskDialog(
  api: RequestsAPI,
  target: IAskTarget,
  trans: TranslationBundle = NULL_TRANS
): Promise<IAccessRequest | null> {
  const what =
    target.kind === 'session'
      ? trans.__("%1's container", target.owner)
      : trans.__(
          "%1's %2 %3",
          target.owner,
          kindLabel(target.kind, trans),
          target.name
        );
  const result = await showDialog({
    title: trans.__('Ask for more on %1', what),
    body: new AskBody(target, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Ask'), ariaLabel: trans.__('Ask') })
    ],
    focusNodeSelector: 'textarea'
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  try {
    const asked = await api.ask(
      target.kind,
      target.id,
      result.value.permission,
      result.value.message
    );
    Notification.success(
      trans.__(
        'You asked %1 for %2: you will see it here when they decide',
        target.owner,
        asked.permission
      ),
      { autoClose: 5000 }
    );
    return asked;
  } catch (reason: any) {
    Notification.error(
      trans.__('Could not ask: %1', reason?.message ?? reason),
      {
        autoClose: 10000
      }
    );
    return null;
  }
}
