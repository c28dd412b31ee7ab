/**
 * The dialog around a form that creates: it closes only once the form is saved.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { FormBody } from './formbody';

/** A dialog that closes on accept only once its form is saved. */
export class FormDialog<T> extends Dialog<T | null> {
  constructor(
    private _form: FormBody<T>,
    options: { title: string; acceptLabel: string; trans: TranslationBundle }
  ) {
    super({
      title: options.title,
      body: _form,
      buttons: [
        Dialog.cancelButton({ label: options.trans.__('Cancel') }),
        Dialog.okButton({ label: options.acceptLabel })
      ],
      focusNodeSelector: 'input[name="name"]',
      hasClose: true
    });
    this.addClass('jp-share-dialog');
  }

  resolve(index?: number): void {
    const accept = index === undefined || index === 1;
    if (!accept) {
      super.resolve(index);
      return;
    }
    if (this._submitting) {
      return;
    }
    this._submitting = true;
    this._form.submit().then(
      () => {
        this._submitting = false;
        super.resolve(1);
      },
      () => {
        this._submitting = false;
      }
    );
  }

  private _submitting = false;
}
