/**
 * The form for a new image, and the dialog that shows it.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IResource, ShareAPI } from '../api';
import { NULL_TRANS } from '../model';
import { Field } from './field';
import { FormBody } from './formbody';
import { FormDialog } from './formdialog';

class CreateImageForm extends FormBody<IResource> {
  constructor(
    private _api: ShareAPI,
    capture: boolean,
    private _trans: TranslationBundle
  ) {
    super();
    this._capture = capture;
  }

  protected async save(): Promise<IResource> {
    const body: any = {
      name: this._name,
      description: this._description || null
    };
    if (this._capture) {
      body.capture = true;
    }
    if (this._reference.trim()) {
      body.spec = { reference: this._reference.trim() };
    }
    return this._api.create('image', body);
  }

  protected render(): JSX.Element {
    const set = (apply: () => void) => {
      apply();
      this.update();
    };
    const trans = this._trans;
    return (
      <div className="jp-share-form-content">
        <Field
          name="name"
          label={trans.__('Name')}
          value={this._name}
          placeholder="CARET"
          invalid={this.errorField === 'name'}
          onChange={v => set(() => (this._name = v))}
        />
        <Field
          name="description"
          label={trans.__('Description (optional)')}
          value={this._description}
          onChange={v => set(() => (this._description = v))}
        />
        <div className="jp-share-form-row jp-share-form-check">
          <input
            id="jp-share-capture"
            type="checkbox"
            name="capture"
            checked={this._capture}
            onChange={event =>
              set(() => (this._capture = event.target.checked))
            }
          />
          <label htmlFor="jp-share-capture">
            {trans.__(
              'Capture this container’s environment (Python, packages, conda, kernels)'
            )}
          </label>
        </div>
        <Field
          name="reference"
          label={
            this._capture
              ? trans.__('Container image reference (optional)')
              : trans.__('Container image reference')
          }
          value={this._reference}
          placeholder="docker.io/library/python:3.12"
          invalid={this.errorField === 'spec.reference'}
          onChange={v => set(() => (this._reference = v))}
        />
        {this.renderError()}
        {this.busy && (
          <p className="jp-share-muted" role="status">
            {this._capture
              ? trans.__('Capturing the environment…')
              : trans.__('Creating…')}
          </p>
        )}
      </div>
    );
  }

  private _name = '';
  private _description = '';
  private _reference = '';
  private _capture: boolean;
}

/**
 * The form for a new image; resolves with the new image, or null when cancelled.
 *
 * @param options.title The dialog's title
 * @param options.capture Whether capturing this container's environment is ticked
 */
export async function showCreateImageDialog(
  api: ShareAPI,
  options: { title: string; capture: boolean },
  trans: TranslationBundle = NULL_TRANS
): Promise<IResource | null> {
  const form = new CreateImageForm(api, options.capture, trans);
  const dialog = new FormDialog(form, {
    title: options.title,
    acceptLabel: trans.__('Create'),
    trans
  });
  const result = await dialog.launch();
  dialog.dispose();
  return result.button.accept ? form.getValue() : null;
}
