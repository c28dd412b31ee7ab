/**
 * The owner's side: the Sharing panel and its toolbar, its commands, and
 * notifications of new shares and of requests for more.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  addIcon,
  CommandToolbarButton,
  refreshIcon
} from '@jupyterlab/ui-components';

import { ShareAPI } from './api';
import { CommandIDs } from './commandids';
import { addCommands } from './commands';
import { EnvironmentsAPI } from './environments';
import {
  describeNewShare,
  errorMessage,
  ISeenStore,
  SharingModel
} from './model';
import { PANEL_ID, SharingPanel } from './panel';
import { presenceOf } from './presence';
import { RequestNotifier, RequestsAPI } from './requests';
import { ImageUser } from './useimage';

/**
 * The plugin id; also the settings schema id (`schema/plugin.json`).
 */
export const PLUGIN_ID = 'jupyter-share:plugin';

/** The jupyter_events schema of every change jupyter_share makes. */
export const EVENT_SCHEMA_ID =
  'https://events.jupyter.org/jupyter_share/change/v1';

/** Where the time of the newest share seen is kept. */
const SEEN_KEY = 'jupyter-share:newest-share-seen';

/** The Sharing panel, its commands and notifications, for the container's owner. */
export function startSharing(
  app: JupyterFrontEnd,
  api: ShareAPI,
  settingRegistry: ISettingRegistry | null,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  state: IStateDB | null,
  translator: ITranslator | null
): SharingModel {
  const trans = (translator ?? nullTranslator).load('jupyter_share');
  const imageUser = new ImageUser(
    app,
    new EnvironmentsAPI(app.serviceManager.serverSettings),
    trans
  );
  imageUser.connect(app.serviceManager.events);
  const seen: ISeenStore | undefined = state
    ? {
        load: async () => ((await state.fetch(SEEN_KEY)) as string) ?? null,
        save: async value => {
          await state.save(SEEN_KEY, value);
        }
      }
    : undefined;
  const model = new SharingModel({ api, seen });
  const panel = new SharingPanel({ model, commands: app.commands, trans });

  panel.toolbar.addItem(
    'create-image',
    new CommandToolbarButton({
      commands: app.commands,
      id: CommandIDs.createImage,
      icon: addIcon,
      label: trans.__('Image')
    })
  );
  panel.toolbar.addItem(
    'create-formation',
    new CommandToolbarButton({
      commands: app.commands,
      id: CommandIDs.createFormation,
      icon: addIcon,
      label: trans.__('Formation')
    })
  );
  panel.toolbar.addItem(
    'refresh',
    new CommandToolbarButton({
      commands: app.commands,
      id: CommandIDs.refresh,
      icon: refreshIcon
    })
  );

  app.shell.add(panel, 'left', { rank: 650 });
  if (restorer) {
    restorer.add(panel, PANEL_ID);
  }

  addCommands(app, api, model, panel, palette, imageUser, trans, translator);

  // Something new shared with me: say so.
  model.newShares.connect((_, resources) => {
    const shown = resources.slice(0, 3);
    for (const resource of shown) {
      Notification.info(describeNewShare(resource, trans), {
        autoClose: 10000,
        actions: [
          {
            label: trans.__('Show'),
            caption: trans.__('Show it in the Sharing panel'),
            callback: () =>
              void app.commands.execute(CommandIDs.showSharedWithMe, {
                id: resource.id
              })
          }
        ]
      });
    }
    if (resources.length > shown.length) {
      Notification.info(
        trans.__('%1 more shared with you', resources.length - shown.length),
        {
          autoClose: 10000,
          actions: [
            {
              label: trans.__('Show'),
              callback: () =>
                void app.commands.execute(CommandIDs.showSharedWithMe)
            }
          ]
        }
      );
    }
  });

  // A change made through this server: refresh at once.
  app.serviceManager.events.stream.connect(
    (_: Event.IManager, event: Event.Emission) => {
      if (event.schema_id === EVENT_SCHEMA_ID) {
        model.scheduleRefresh();
      }
    }
  );
  // Who is in this container now follows its presence events.
  presenceOf(model).connect(app.serviceManager.events);

  // Someone asks for more on what I own or manage: a notification with Approve
  // and Deny (looked for at each refresh: events here, polls for other servers).
  const notifier = new RequestNotifier(
    new RequestsAPI(app.serviceManager.serverSettings),
    () => model.me?.username ?? null,
    () => model.scheduleRefresh(),
    trans
  );
  model.changed.connect(() => void notifier.check());

  const start = () => {
    model.refresh().catch(reason => {
      console.warn(
        `jupyter-share: the jupyter_share server extension does not answer: ${errorMessage(reason)}`
      );
    });
    model.startPolling();
  };

  if (settingRegistry) {
    settingRegistry
      .load(PLUGIN_ID)
      .then(settings => {
        const apply = () => {
          model.pollInterval = settings.get('pollInterval').composite as number;
        };
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason => {
        console.warn('jupyter-share: could not load the settings.', reason);
      })
      .then(start);
  } else {
    start();
  }
  return model;
}
