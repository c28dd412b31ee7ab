import * as React from 'react';

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  ReactWidget,
  showDialog,
  UseSignal
} from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { ShareAPI } from './api';
import { BuildLog } from './buildlog';
import { BuildStatus } from './buildstatus';
import { BuildTracker } from './buildtracker';
import { EnvironmentsAPI, IBuiltEnvironment } from './environments';
import { EnvironmentsList } from './environmentslist';
import { errorMessage } from './model';

/** The command that lists the environments built here (with their logs). */
export const SHOW_ENVIRONMENTS = 'jupyter-share:show-environments';

/** A build's log in a dialog (from the status bar item). */
export async function showBuildLog(
  api: EnvironmentsAPI,
  env: IBuiltEnvironment,
  trans: TranslationBundle
): Promise<void> {
  let text: string;
  try {
    text = await api.log(env.id);
  } catch (reason) {
    text = errorMessage(reason);
  }
  await showDialog({
    title: trans.__('Build log of %1', env.display_name),
    body: ReactWidget.create(<BuildLog text={text} />),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}

/** The environments built here, kept fresh while its dialog is open. */
class EnvironmentsWidget extends ReactWidget {
  constructor(
    private readonly _api: EnvironmentsAPI,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-share-environments-dialog');
  }

  async load(): Promise<void> {
    try {
      this._items = (await this._api.list()).items;
      this._error = '';
    } catch (reason) {
      this._error = errorMessage(reason);
    }
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <>
        {this._error ? <p role="alert">{this._error}</p> : null}
        <EnvironmentsList
          environments={this._items}
          trans={trans}
          onShowLog={env => void showBuildLog(this._api, env, trans)}
          onRemove={async env => {
            try {
              await this._api.remove(env.id);
            } catch (reason) {
              this._error = errorMessage(reason);
            }
            await this.load();
          }}
        />
      </>
    );
  }

  private _items: IBuiltEnvironment[] = [];
  private _error = '';
}

/**
 * The status bar item of environments being built from images ("Building
 * CARET (alice): installing 3/7"), and the list of those built here (with
 * their logs, from the palette and an image's menu in the Sharing panel), for
 * the container's owner; nothing for a guest (builds are the owner's).
 */
export const buildStatusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-share:build-status',
  description:
    'Shows environments being built from shared images in the status bar.',
  autoStart: true,
  optional: [IStatusBar, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_share');
    const settings = app.serviceManager.serverSettings;
    const api = new EnvironmentsAPI(settings);
    const start = () => {
      app.commands.addCommand(SHOW_ENVIRONMENTS, {
        label: trans.__('Environments built from images…'),
        caption: trans.__(
          'The environments and kernels built here from images, with their logs'
        ),
        execute: async () => {
          const body = new EnvironmentsWidget(api, trans);
          await body.load();
          await showDialog({
            title: trans.__('Environments built from images'),
            body,
            buttons: [Dialog.okButton({ label: trans.__('Close') })]
          });
        }
      });
      palette?.addItem({
        command: SHOW_ENVIRONMENTS,
        category: trans.__('Sharing')
      });
      app.contextMenu.addItem({
        command: SHOW_ENVIRONMENTS,
        selector:
          '#jupyter-share-panel .jp-share-row[data-share-environment="true"]',
        rank: 9
      });
      if (!statusBar) {
        return;
      }
      const tracker = new BuildTracker(api);
      tracker.connect(app.serviceManager.events);
      void tracker.refresh().catch(() => undefined);
      const item = ReactWidget.create(
        <UseSignal signal={tracker.changed}>
          {() => (
            <BuildStatus
              builds={tracker.building}
              trans={trans}
              onShowLog={env => void showBuildLog(api, env, trans)}
            />
          )}
        </UseSignal>
      );
      item.addClass('jp-share-build-status-item');
      statusBar.registerStatusItem('jupyter-share:build-status', {
        item,
        align: 'left',
        rank: 100,
        isActive: () => tracker.building.length > 0,
        activeStateChanged: tracker.changed
      });
    };
    new ShareAPI(settings).me().then(
      me => {
        if (!me.guest) {
          start();
        }
      },
      () => start()
    );
  }
};
