import * as React from 'react';

import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';

import { IResource, sessionSpec } from './api';
import type { components } from './contract';
import { CommandIDs } from './commandids';
import { errorMessage, SharingModel } from './model';
import { NotAppliedList } from './notapplied';
import { requestAPI } from './request';

/** A field of a formation that a server on this machine cannot honour. */
export type INotApplied = components['schemas']['NotApplied'];

/** The answer of `POST formations/{id}/launch` (`Launch` in openapi.yaml). */
export type ILaunch = components['schemas']['Launch'];

/** The user_options key of the Hub's spawner hooks (jupyter_share.hub.spawner.CHOICE). */
export const HUB_CHOICE = 'jupyter_share_choice';

/** "cpu 4", "env.PYTHONPATH": one not-applied field as the user reads it. */
export function notAppliedLabel(item: INotApplied): string {
  const value =
    item.value === null || item.value === undefined || item.value === ''
      ? ''
      : ` ${typeof item.value === 'object' ? JSON.stringify(item.value) : String(item.value)}`;
  return `${item.field}${value}`;
}

/**
 * The Hub's spawn URL that starts a named server from a formation through the
 * spawner hooks (`apply_user_options` reads the choice again with the user's
 * own token): no token reaches the page.
 */
export function hubSpawnUrl(
  hubPrefix: string,
  user: string,
  formationId: string
): string {
  const server = `formation-${formationId.slice(0, 12)}`;
  const path = URLExt.join(
    hubPrefix || '/hub/',
    'spawn',
    encodeURIComponent(user),
    server
  );
  return `${path}?opt-${HUB_CHOICE}=${encodeURIComponent(`formation:${formationId}`)}`;
}

/** Whether a container is one this server launched and that still runs. */
export function isLaunchedAndRunning(resource: IResource): boolean {
  return (
    resource.access === 'owner' &&
    typeof sessionSpec(resource)?.launched_from === 'string' &&
    sessionSpec(resource)?.state !== 'stopped'
  );
}

/** Options of `addLaunchCommands`. */
export interface ILaunchCommandsOptions {
  app: JupyterFrontEnd;
  model: SharingModel;
  trans: TranslationBundle;
  /** The resource a command's `id` names (or the row under the context menu). */
  target: (args: any) => { resource: IResource } | undefined;
  /** Show a resource in the panel. */
  reveal: (id: string) => void;
}

/** The Launch (formations) and Stop (launched containers) commands. */
export function addLaunchCommands(options: ILaunchCommandsOptions): void {
  const { app, model, trans, target, reveal } = options;
  const settings = app.serviceManager.serverSettings;

  const launch = async (formation: IResource) => {
    if (model.me?.mode === 'hub') {
      // The Hub starts a named server from it: its spawner hooks decide.
      window.open(
        PageConfig.getOption('hubHost') +
          hubSpawnUrl(
            PageConfig.getOption('hubPrefix'),
            PageConfig.getOption('hubUser') || model.me.username,
            formation.id
          ),
        '_blank',
        'noopener'
      );
      return;
    }
    let answer: ILaunch;
    try {
      answer = await requestAPI<ILaunch>(
        `formations/${encodeURIComponent(formation.id)}/launch`,
        { method: 'POST', body: '{}' },
        settings
      );
    } catch (reason) {
      await showErrorMessage(
        trans.__('Could not launch %1', formation.name),
        errorMessage(reason)
      );
      return;
    }
    // Named in the notification, and in full (values, reasons) one click away.
    const notApplied = answer.not_applied.length
      ? trans.__(
          'Not applied here: %1.',
          answer.not_applied.map(item => item.field).join(', ')
        )
      : '';
    const details = answer.not_applied.length
      ? [
          {
            label: trans.__('Not applied…'),
            callback: () =>
              void showDialog({
                title: trans.__('Not applied: %1', answer.name),
                body: ReactWidget.create(
                  React.createElement(NotAppliedList, {
                    items: answer.not_applied,
                    trans
                  })
                ),
                buttons: [Dialog.okButton({ label: trans.__('Close') })]
              })
          }
        ]
      : [];
    if (answer.state === 'building') {
      Notification.info(
        [
          trans.__(
            'Building the environment %1 first; %2 starts when it is ready and appears under Containers.',
            answer.environment?.display_name ?? '',
            answer.name
          ),
          notApplied
        ]
          .filter(Boolean)
          .join(' '),
        { autoClose: false, actions: details }
      );
      return;
    }
    const url = answer.url;
    Notification.success(
      [trans.__('Launched %1.', answer.name), notApplied]
        .filter(Boolean)
        .join(' '),
      {
        autoClose: false,
        actions: [
          ...(url
            ? [
                {
                  label: trans.__('Open'),
                  callback: () => window.open(url, '_blank', 'noopener')
                }
              ]
            : []),
          ...details
        ]
      }
    );
    await model.refresh().catch(() => undefined);
    if (answer.container) {
      reveal(answer.container.id);
    }
  };

  app.commands.addCommand(CommandIDs.launchFormation, {
    label: trans.__('Launch'),
    caption: trans.__(
      'Start a new Jupyter server of yours from this formation'
    ),
    isEnabled: args => target(args)?.resource.kind === 'formation',
    execute: async args => {
      const found = target(args);
      if (found) {
        await launch(found.resource);
      }
    }
  });

  app.commands.addCommand(CommandIDs.stopContainer, {
    label: trans.__('Stop'),
    caption: trans.__('Stop this container (a server launched from here)'),
    isEnabled: args => {
      const found = target(args);
      return !!found && isLaunchedAndRunning(found.resource);
    },
    execute: async args => {
      const found = target(args);
      if (!found) {
        return;
      }
      try {
        await requestAPI<IResource>(
          `sessions/${encodeURIComponent(found.resource.id)}/stop`,
          { method: 'POST', body: '{}' },
          settings
        );
        Notification.success(trans.__('Stopped %1.', found.resource.name), {
          autoClose: 5000
        });
      } catch (reason) {
        await showErrorMessage(
          trans.__('Could not stop %1', found.resource.name),
          errorMessage(reason)
        );
      }
      await model.refresh().catch(() => undefined);
    }
  });
}
