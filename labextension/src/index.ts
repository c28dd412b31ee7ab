import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage,
  Dialog
} from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IStateDB } from '@jupyterlab/statedb';
import { Widget } from '@lumino/widgets';
import {
  addIcon,
  CommandToolbarButton,
  MenuSvg,
  refreshIcon
} from '@jupyterlab/ui-components';

import { EnvironmentFormat, IResource, ShareAPI } from './api';
import { CommandIDs } from './commandids';
import { ChangeFeed, IFeedMessage } from './feed';
import {
  describe,
  showCreateFormationDialog,
  showCreateImageDialog,
  showDetailsDialog,
  showShareDialog
} from './dialogs';
import { imageKindIcon, sharingIcon } from './icons';
import {
  canManage,
  describeNewShare,
  errorMessage,
  ISeenStore,
  kindLabel,
  Place,
  principalLabel,
  SharingModel
} from './model';
import { guestModePlugin } from './guestmode';
import { PANEL_ID, SharingPanel } from './panel';
import { ExpiryReminder, ownerChangeWords, presenceWords } from './notices';
import { PRESENCE_SCHEMA_ID, presenceOf } from './presence';
import { addAskButton, addAskLink } from './askbutton';
import { showAskDialog } from './askdialog';
import { nextPermission, RequestNotifier, RequestsAPI } from './requests';
import { EnvironmentsAPI } from './environments';
import { addLaunchCommands } from './launch';
import { ImageUser } from './useimage';
import { buildStatusPlugin } from './buildstatusplugin';

/**
 * The plugin id; also the settings schema id (`schema/plugin.json`).
 */
const PLUGIN_ID = 'jupyter-share:plugin';

/** The jupyter_events schema of every change jupyter_share makes. */
export const EVENT_SCHEMA_ID =
  'https://events.jupyter.org/jupyter_share/change/v1';

/** Where the time of the newest share seen is kept. */
const SEEN_KEY = 'jupyter-share:newest-share-seen';

/** The palette's category. */
const CATEGORY = 'Sharing';

/**
 * The Sharing panel, its commands, and notifications of new shares.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Share containers, images and formations with other users.',
  autoStart: true,
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IStateDB,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_share');
    const api = new ShareAPI(app.serviceManager.serverSettings);
    // A guest (signed in by a personal link) is in someone else's container: they get a
    // banner that says so, and share from their own server instead.
    api.me().then(
      me => {
        if (me.guest) {
          showGuestBanner(
            app,
            me.guest.owner,
            me.guest.permission,
            me.mode,
            trans
          );
          new ExpiryReminder(trans).watch(
            `guest:${me.guest.owner}`,
            trans.__("%1's container", me.guest.owner),
            me.guest.expires_at
          );
        } else {
          startSharing(
            app,
            api,
            settingRegistry,
            palette,
            restorer,
            state,
            translator
          );
          followChanges(app, trans);
        }
      },
      () => {
        startSharing(
          app,
          api,
          settingRegistry,
          palette,
          restorer,
          state,
          translator
        );
        followChanges(app, trans);
      }
    );
  }
};

/** The Sharing panel's model of each app (set by `startSharing`). */
const sharingModels = new WeakMap<JupyterFrontEnd, SharingModel>();

/**
 * Changes made anywhere (another neighbour's server, the CLI, the Hub's
 * service) reach the panel by the server's change stream: the row it names is
 * read again at once; polling stays as a slow fallback.
 */
function followChanges(app: JupyterFrontEnd, trans: TranslationBundle): void {
  const model = sharingModels.get(app);
  if (!model) {
    return;
  }
  const feed = new ChangeFeed(app.serviceManager.serverSettings);
  feed.received.connect((_, change) => {
    void model.applyChange(change).catch(() => model.scheduleRefresh());
    const words =
      lostAccessWords(change, trans) ??
      ownerChangeWords(change, model.me?.username ?? null, trans);
    if (words) {
      Notification.info(words, { autoClose: 10000 });
    }
  });
  // Who signs in to my container, and who is gone from it, in words.
  app.serviceManager.events.stream.connect(
    (_: Event.IManager, event: Event.Emission) => {
      const words =
        event.schema_id === PRESENCE_SCHEMA_ID
          ? presenceWords(event, trans)
          : null;
      if (words) {
        Notification.info(words, { autoClose: 8000 });
      }
    }
  );
  // An hour before my access to something shared with me ends: say so.
  const reminder = new ExpiryReminder(trans);
  model.changed.connect(() => reminder.watchShared(model.shared));
  // Changes made while the stream was lost were not told: read the lists.
  feed.reconnected.connect(() => model.scheduleRefresh());
  feed.start();
}

/** "alice revoked your access to image CARET", for changes that end mine. */
export function lostAccessWords(
  change: IFeedMessage,
  trans: TranslationBundle
): string | null {
  if (change.list !== 'shared-with-me' || change.access !== null) {
    return null;
  }
  const what = change.resource_name
    ? trans.__('%1 %2', change.kind, change.resource_name)
    : trans.__('a %1', change.kind);
  switch (change.action) {
    case 'revoke':
      return change.actor
        ? trans.__('%1 revoked your access to %2', change.actor, what)
        : trans.__('Your access to %1 was revoked', what);
    case 'expire':
      return trans.__('Your access to %1 expired', what);
    case 'delete':
      return trans.__('%1 was deleted by its owner', what);
    default:
      return null;
  }
}

/** "You are in alice's container, view only": a guest's banner at the top. */
function showGuestBanner(
  app: JupyterFrontEnd,
  owner: string,
  permission: string,
  mode: 'standalone' | 'hub',
  trans: TranslationBundle
): void {
  const banner = new Widget();
  banner.id = 'jupyter-share-guest-banner';
  banner.addClass('jp-share-guest-banner');
  banner.node.setAttribute('role', 'status');
  const text = document.createElement('span');
  text.className = 'jp-share-guest-banner-text';
  text.textContent = guestBannerText(owner, permission, null, trans);
  banner.node.appendChild(text);
  if (mode === 'hub') {
    addAskLink(banner.node, owner, permission, trans);
  } else {
    addAskButton(
      banner.node,
      app.serviceManager.serverSettings,
      owner,
      permission,
      trans
    );
  }
  app.shell.add(banner, 'top', { rank: 1000 });
}

/** The banner's words: whose container, what the guest may do, until when. */
export function guestBannerText(
  owner: string,
  permission: string,
  expiresAt?: string | null,
  trans: TranslationBundle = nullTranslator.load('jupyter_share')
): string {
  const rights =
    permission === 'view'
      ? trans.__('view only')
      : permission === 'edit'
        ? trans.__('you may edit and run code')
        : trans.__('you may edit, run code and share it');
  return expiresAt
    ? trans.__(
        "You are in %1's container, %2 until %3",
        owner,
        rights,
        new Date(expiresAt).toLocaleString()
      )
    : trans.__("You are in %1's container, %2", owner, rights);
}

/** The Sharing panel, its commands and notifications, for the container's owner. */
function startSharing(
  app: JupyterFrontEnd,
  api: ShareAPI,
  settingRegistry: ISettingRegistry | null,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  state: IStateDB | null,
  translator: ITranslator | null
): void {
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
  sharingModels.set(app, model);
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
}

/**
 * The commands: row actions (context menu), palette commands and toolbar.
 */
function addCommands(
  app: JupyterFrontEnd,
  api: ShareAPI,
  model: SharingModel,
  panel: SharingPanel,
  palette: ICommandPalette | null,
  imageUser: ImageUser,
  trans: TranslationBundle,
  translator: ITranslator | null
): void {
  const { commands } = app;

  /** The resource a row command acts on: its `id` arg, the row right-clicked, or the focused row. */
  const target = (
    args: any
  ): { resource: IResource; place: Place } | undefined => {
    let id = args.id as string | undefined;
    if (!id) {
      const node = app.contextMenuHitTest(
        n => n.dataset.resourceId !== undefined
      );
      id = node?.dataset.resourceId ?? panel.focusedResourceId() ?? undefined;
    }
    return id ? model.find(id) : undefined;
  };

  const refreshSoon = () => {
    return model.refresh().catch(() => undefined);
  };

  addLaunchCommands({
    app,
    model,
    trans,
    target,
    reveal: id => {
      app.shell.activateById(PANEL_ID);
      panel.reveal('session', id);
    }
  });

  commands.addCommand(CommandIDs.share, {
    label: trans.__('Share…'),
    caption: trans.__('Share with a user or a group, and see who has access'),
    icon: sharingIcon,
    isEnabled: args => canManage(target(args)?.resource.access ?? ''),
    execute: async args => {
      const found = target(args);
      if (found) {
        await showShareDialog({
          api,
          model,
          resource: found.resource,
          trans
        });
        await refreshSoon();
      }
    }
  });

  commands.addCommand(CommandIDs.openContainer, {
    label: trans.__('Open container'),
    caption: trans.__('Open this container in a new tab'),
    isEnabled: args => {
      const found = target(args);
      return (
        found?.resource.kind === 'session' &&
        typeof found.resource.spec?.url === 'string' &&
        found.resource.spec.url !== ''
      );
    },
    execute: args => {
      const found = target(args);
      const url = found?.resource.spec?.url;
      if (typeof url === 'string' && url) {
        // Under JupyterHub the Hub lets the neighbour in through its share; standalone, the
        // owner's personal link signs them in first.
        window.open(
          new URL(url, window.location.href).href,
          '_blank',
          'noopener'
        );
      }
    }
  });

  commands.addCommand(CommandIDs.askForMore, {
    label: args => {
      const next = nextPermission(target(args)?.resource.access ?? '');
      return next ? trans.__('Ask for %1…', next) : trans.__('Ask for more…');
    },
    caption: trans.__('Ask the owner for a higher permission'),
    isEnabled: args => {
      const found = target(args);
      return (
        found?.place === 'shared' &&
        nextPermission(found.resource.access) !== null
      );
    },
    execute: async args => {
      const found = target(args);
      if (found) {
        const { resource } = found;
        await showAskDialog(
          new RequestsAPI(api.serverSettings),
          resource,
          trans
        );
      }
    }
  });

  commands.addCommand(CommandIDs.details, {
    label: trans.__('Details…'),
    caption: trans.__('What it is, its specification and its history'),
    execute: async args => {
      const found = target(args);
      if (found) {
        await showDetailsDialog(found.resource, api, translator ?? undefined);
      }
    }
  });

  commands.addCommand(CommandIDs.revokeAll, {
    label: trans.__('Revoke all'),
    caption: trans.__('Remove everyone’s access'),
    isEnabled: args => {
      const found = target(args);
      return (
        !!found && canManage(found.resource.access) && found.resource.shared
      );
    },
    execute: async args => {
      const found = target(args);
      if (!found) {
        return;
      }
      const { resource } = found;
      try {
        const grants = await api.grants(resource.kind, resource.id);
        if (grants.length === 0) {
          return;
        }
        const names = grants.map(g => principalLabel(g, trans)).join(', ');
        const answer = await showDialog({
          title: trans.__('Revoke all access'),
          body: trans.__(
            'Revoke everyone’s access to %1? %2 will lose it.',
            describe(resource, trans),
            names
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Revoke all') })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        for (const grant of grants) {
          await api.revoke(resource.kind, resource.id, grant.principal);
        }
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not revoke'),
          errorMessage(reason)
        );
      }
      await refreshSoon();
    }
  });

  commands.addCommand(CommandIDs.remove, {
    label: trans.__('Delete'),
    caption: trans.__('Delete it and every grant on it'),
    isEnabled: args => target(args)?.resource.access === 'owner',
    execute: async args => {
      const found = target(args);
      if (!found) {
        return;
      }
      const { resource } = found;
      const body =
        resource.kind === 'session'
          ? trans.__(
              'Delete %1? Its record and every grant on it go; the server keeps running.',
              describe(resource, trans)
            )
          : trans.__(
              'Delete %1? Everyone it is shared with loses it.',
              describe(resource, trans)
            );
      const answer = await showDialog({
        title: trans.__('Delete %1', kindLabel(resource.kind, trans)),
        body,
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await api.delete(resource.kind, resource.id);
        if (resource.id === model.currentSessionId) {
          model.forgetCurrentSession();
        }
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not delete'),
          errorMessage(reason)
        );
      }
      await refreshSoon();
    }
  });

  commands.addCommand(CommandIDs.leave, {
    label: trans.__('Leave'),
    caption: trans.__('Give up your access'),
    isEnabled: args => target(args)?.place === 'shared',
    execute: async args => {
      const found = target(args);
      if (!found || !model.me) {
        return;
      }
      const { resource } = found;
      const answer = await showDialog({
        title: trans.__('Leave %1', kindLabel(resource.kind, trans)),
        body: trans.__(
          'Give up your access to %1 of %2? Only %2 can share it with you again.',
          describe(resource, trans),
          resource.owner
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Leave') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await api.revoke(
          resource.kind,
          resource.id,
          `user:${model.me.username}`
        );
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not leave'),
          errorMessage(reason)
        );
      }
      await refreshSoon();
    }
  });

  commands.addCommand(CommandIDs.downloadEnvironment, {
    label: args =>
      args.format === 'conda'
        ? trans.__('environment.yml (conda)')
        : trans.__('requirements.txt (pip)'),
    caption: trans.__('Download the captured environment'),
    isEnabled: args => target(args)?.resource.kind === 'image',
    execute: async args => {
      const found = target(args);
      if (!found) {
        return;
      }
      const format = (args.format as EnvironmentFormat) ?? 'requirements';
      try {
        const file = await api.environment(found.resource.id, format);
        const url = URL.createObjectURL(
          new Blob([file.content], { type: file.contentType })
        );
        const anchor = document.createElement('a');
        anchor.href = url;
        anchor.download = file.filename;
        anchor.style.display = 'none';
        document.body.appendChild(anchor);
        anchor.click();
        anchor.remove();
        window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not download the environment'),
          errorMessage(reason)
        );
      }
    }
  });

  commands.addCommand(CommandIDs.useImage, {
    label: trans.__('Use in this container…'),
    caption: trans.__(
      'Build an environment and a kernel here from the image’s packages'
    ),
    isEnabled: args => {
      const found = target(args);
      return (
        // Lists carry a summary of the captured environment, not the whole.
        found?.resource.kind === 'image' && !!found.resource.environment
      );
    },
    execute: async args => {
      const found = target(args);
      if (found) {
        await imageUser.use(found.resource.id);
      }
    }
  });

  commands.addCommand(CommandIDs.shareContainer, {
    label: trans.__('Share this container…'),
    caption: trans.__('Share the Jupyter server you are working in'),
    icon: sharingIcon,
    execute: async () => {
      try {
        const resource = await api.get('session', 'current');
        await showShareDialog({ api, model, resource, trans });
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not share this container'),
          errorMessage(reason)
        );
      }
      await refreshSoon();
    }
  });

  const createImage = async (title: string) => {
    // Capturing is ticked: it is what most people want from a container.
    const image = await showCreateImageDialog(
      api,
      { title, capture: true },
      trans
    );
    if (image) {
      await refreshSoon();
      app.shell.activateById(PANEL_ID);
      panel.reveal('image', image.id);
    }
  };

  commands.addCommand(CommandIDs.createImageFromContainer, {
    label: trans.__('Create image from this container…'),
    caption: trans.__(
      'Capture this container’s environment as an image you can share'
    ),
    icon: imageKindIcon,
    execute: () => createImage(trans.__('Create image from this container'))
  });

  commands.addCommand(CommandIDs.createImage, {
    label: args =>
      args.isPalette ? trans.__('Create image…') : trans.__('Image'),
    caption: trans.__('Create an image'),
    execute: () => createImage(trans.__('Create image'))
  });

  commands.addCommand(CommandIDs.createFormation, {
    label: args =>
      args.isPalette ? trans.__('Create formation…') : trans.__('Formation'),
    caption: trans.__('Create a formation (a launch template)'),
    execute: async () => {
      const images = [
        ...model.owned('image'),
        ...model.shared.filter(r => r.kind === 'image')
      ];
      const formation = await showCreateFormationDialog(api, images, trans);
      if (formation) {
        await refreshSoon();
        app.shell.activateById(PANEL_ID);
        panel.reveal('formation', formation.id);
      }
    }
  });

  commands.addCommand(CommandIDs.showSharedWithMe, {
    label: trans.__('Show what is shared with me'),
    caption: trans.__('Open the Sharing panel at Shared with me'),
    execute: args => {
      app.shell.activateById(PANEL_ID);
      panel.reveal('shared', args.id as string | undefined);
    }
  });

  commands.addCommand(CommandIDs.refresh, {
    label: args => (args.isPalette ? trans.__('Refresh sharing') : ''),
    caption: trans.__('Refresh what is mine and what is shared with me'),
    icon: args => (args.isPalette ? undefined : refreshIcon),
    execute: () => refreshSoon()
  });

  // The rows' context menu.
  const row = '#jupyter-share-panel .jp-share-row';
  app.contextMenu.addItem({
    command: CommandIDs.share,
    selector: `${row}[data-share-manage="true"]`,
    rank: 1
  });
  app.contextMenu.addItem({
    command: CommandIDs.openContainer,
    selector: `${row}[data-share-place="shared"][data-resource-kind="session"]`,
    rank: 0
  });
  app.contextMenu.addItem({
    command: CommandIDs.details,
    selector: row,
    rank: 2
  });
  app.contextMenu.addItem({
    command: CommandIDs.launchFormation,
    selector: `${row}[data-resource-kind="formation"]`,
    rank: 2.4
  });
  app.contextMenu.addItem({
    command: CommandIDs.stopContainer,
    selector: `${row}[data-resource-kind="session"][data-share-access="owner"]`,
    rank: 2.6
  });
  app.contextMenu.addItem({
    command: CommandIDs.useImage,
    selector: `${row}[data-share-environment="true"]`,
    rank: 2.5
  });
  const download = new MenuSvg({ commands });
  download.title.label = trans.__('Download environment');
  download.addItem({
    command: CommandIDs.downloadEnvironment,
    args: { format: 'requirements' }
  });
  download.addItem({
    command: CommandIDs.downloadEnvironment,
    args: { format: 'conda' }
  });
  app.contextMenu.addItem({
    type: 'submenu',
    submenu: download,
    selector: `${row}[data-share-environment="true"]`,
    rank: 3
  });
  app.contextMenu.addItem({
    command: CommandIDs.revokeAll,
    selector: `${row}[data-share-manage="true"][data-share-shared="true"]`,
    rank: 10
  });
  app.contextMenu.addItem({
    command: CommandIDs.leave,
    selector: `${row}[data-share-place="shared"]`,
    rank: 11
  });
  app.contextMenu.addItem({
    command: CommandIDs.remove,
    selector: `${row}[data-share-access="owner"]`,
    rank: 12
  });

  if (palette) {
    for (const command of [
      CommandIDs.shareContainer,
      CommandIDs.createImageFromContainer,
      CommandIDs.showSharedWithMe,
      CommandIDs.createImage,
      CommandIDs.createFormation,
      CommandIDs.refresh
    ]) {
      palette.addItem({
        command,
        category: trans.__(CATEGORY),
        args: { isPalette: true }
      });
    }
  }
}

export default [plugin, guestModePlugin(guestBannerText), buildStatusPlugin];
