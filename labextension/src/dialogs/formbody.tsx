/**
 * The body of the forms that create (images, formations).
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../model';
import { ShareAPIError } from '../request';

/**
 * The body of a form dialog: it submits itself when the dialog is accepted,
 * and the dialog stays open (with everything typed) while it is refused.
 */
export abstract class FormBody<T> extends ReactWidget {
  constructor() {
    super();
    this.addClass('jp-share-dialog-body');
  }

  /** Do what the form is for; throws (and shows why) when refused. */
  async submit(): Promise<void> {
    this.busy = true;
    this.error = null;
    this.errorField = null;
    this.update();
    try {
      this.result = await this.save();
    } catch (reason) {
      this.error = errorMessage(reason);
      this.errorField = reason instanceof ShareAPIError ? reason.field : null;
      throw reason;
    } finally {
      this.busy = false;
      this.update();
    }
  }

  getValue(): T | null {
    return this.result;
  }

  protected abstract save(): Promise<T>;

  protected renderError(): JSX.Element | null {
    return this.error ? (
      <div className="jp-share-error" role="alert">
        {this.error}
      </div>
    ) : null;
  }

  protected busy = false;
  protected error: string | null = null;
  protected errorField: string | null = null;
  protected result: T | null = null;
}
