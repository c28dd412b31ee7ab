/**
 * The panel's banner of a failed refresh.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, refreshIcon, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SharingModel } from '../model';

/**
 * What went wrong with the last refresh, with a retry; nothing when all is well.
 */
export class StatusBanner extends ReactWidget {
  constructor(
    private _model: SharingModel,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-share-status');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() =>
          this._model.error ? (
            <div className="jp-share-error" role="alert">
              <span>
                {this._trans.__(
                  'Could not load what is shared: %1',
                  this._model.error
                )}
              </span>
              <button
                className="jp-Button jp-mod-minimal jp-share-retry"
                onClick={() =>
                  void this._model.refresh().catch(() => undefined)
                }
                aria-label={this._trans.__('Retry loading')}
                title={this._trans.__('Retry')}
              >
                <refreshIcon.react tag="span" />
              </button>
            </div>
          ) : null
        }
      </UseSignal>
    );
  }
}
