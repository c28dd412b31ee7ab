/**
 * The form for a new formation, and the dialog that shows it.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IResource, ShareAPI } from '../api';
import { NULL_TRANS } from '../model';
import { Field } from './field';
import { FormBody } from './formbody';
import { FormDialog } from './formdialog';

class CreateFormationForm extends FormBody<IResource> {
  constructor(
    private _api: ShareAPI,
    private _images: ReadonlyArray<IResource>,
    private _trans: TranslationBundle
  ) {
    super();
    this._image = _images[0]?.id ?? '';
  }

  protected async save(): Promise<IResource> {
    const spec: any = {
      image: this._image === OTHER_IMAGE ? this._reference.trim() : this._image
    };
    if (this._cpu.trim()) {
      spec.cpu = Number(this._cpu);
    }
    if (this._memory.trim()) {
      spec.memory = this._memory.trim();
    }
    if (this._gpu.trim()) {
      spec.gpu = Number(this._gpu);
    }
    if (this._startUrl.trim()) {
      spec.start_url = this._startUrl.trim();
    }
    return this._api.create('formation', {
      name: this._name,
      description: this._description || null,
      spec
    });
  }

  protected render(): JSX.Element {
    const set = (apply: () => void) => {
      apply();
      this.update();
    };
    const invalid = (field: string) => this.errorField === field;
    const trans = this._trans;
    return (
      <div className="jp-share-form-content">
        <Field
          name="name"
          label={trans.__('Name')}
          value={this._name}
          invalid={invalid('name')}
          onChange={v => set(() => (this._name = v))}
        />
        <Field
          name="description"
          label={trans.__('Description (optional)')}
          value={this._description}
          onChange={v => set(() => (this._description = v))}
        />
        <div className="jp-share-form-row">
          <label htmlFor="jp-share-formation-image">{trans.__('Image')}</label>
          <HTMLSelect
            id="jp-share-formation-image"
            name="image"
            value={this._image}
            aria-invalid={invalid('spec.image')}
            options={[
              ...this._images.map(image => ({
                value: image.id,
                label:
                  image.access === 'owner'
                    ? image.name
                    : trans.__('%1 (from %2)', image.name, image.owner)
              })),
              {
                value: OTHER_IMAGE,
                label: trans.__('A container image reference…')
              }
            ]}
            onChange={event => set(() => (this._image = event.target.value))}
          />
        </div>
        {(this._image === OTHER_IMAGE || this._images.length === 0) && (
          <Field
            name="reference"
            label={trans.__('Container image reference')}
            value={this._reference}
            placeholder="docker.io/library/python:3.12"
            invalid={invalid('spec.image')}
            onChange={v => set(() => (this._reference = v))}
          />
        )}
        <div className="jp-share-form-grid">
          <Field
            name="cpu"
            label={trans.__('CPUs')}
            type="number"
            step="0.5"
            min="0"
            value={this._cpu}
            invalid={invalid('spec.cpu')}
            onChange={v => set(() => (this._cpu = v))}
          />
          <Field
            name="memory"
            label={trans.__('Memory')}
            placeholder="4G"
            value={this._memory}
            invalid={invalid('spec.memory')}
            onChange={v => set(() => (this._memory = v))}
          />
          <Field
            name="gpu"
            label={trans.__('GPUs')}
            type="number"
            min="0"
            value={this._gpu}
            invalid={invalid('spec.gpu')}
            onChange={v => set(() => (this._gpu = v))}
          />
        </div>
        <Field
          name="start_url"
          label={trans.__('Start URL (optional)')}
          placeholder="/lab"
          value={this._startUrl}
          invalid={invalid('spec.start_url')}
          onChange={v => set(() => (this._startUrl = v))}
        />
        {this.renderError()}
      </div>
    );
  }

  private _name = '';
  private _description = '';
  private _image: string;
  private _reference = '';
  private _cpu = '';
  private _memory = '';
  private _gpu = '';
  private _startUrl = '';
}

const OTHER_IMAGE = '\u0000other';

/** The form for a new formation; resolves with it, or null when cancelled. */
export async function showCreateFormationDialog(
  api: ShareAPI,
  images: ReadonlyArray<IResource>,
  trans: TranslationBundle = NULL_TRANS
): Promise<IResource | null> {
  const form = new CreateFormationForm(api, images, trans);
  const dialog = new FormDialog(form, {
    title: trans.__('Create formation'),
    acceptLabel: trans.__('Create'),
    trans
  });
  const result = await dialog.launch();
  dialog.dispose();
  return result.button.accept ? form.getValue() : null;
}
