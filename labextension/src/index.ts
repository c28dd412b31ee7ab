import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { requestAPI } from './request';

/**
 * The plugin id; also the settings schema id (`schema/plugin.json`).
 */
const PLUGIN_ID = 'jupyter-share:plugin';

/**
 * The initialization data for the jupyter-share extension.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Share containers, images and formations with other users.',
  autoStart: true,
  optional: [ISettingRegistry],
  activate: (app: JupyterFrontEnd, settingRegistry: ISettingRegistry | null) => {
    console.log('JupyterLab extension jupyter-share is activated!');

    if (settingRegistry) {
      settingRegistry
        .load(plugin.id)
        .then(settings => {
          console.log(
            'jupyter-share settings loaded: pollInterval =',
            settings.get('pollInterval').composite
          );
        })
        .catch(reason => {
          console.error('Failed to load settings for jupyter-share.', reason);
        });
    }

    requestAPI<any>('me', {}, app.serviceManager.serverSettings)
      .then(data => {
        console.log('jupyter-share: signed in as', data);
      })
      .catch(reason => {
        console.error(
          `The jupyter_share server extension appears to be missing.\n${reason}`
        );
      });
  }
};

export default plugin;
