/**
 * The commands that share: the Share dialog (of a row or of this container),
 * revoking everyone, leaving what was shared with me.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { CommandIDs } from '../commandids';
import { describe, showShareDialog } from '../dialogs';
import { sharingIcon } from '../icons';
import { canManage, errorMessage, kindLabel, principalLabel } from '../model';
import { ICommandContext } from './context';

/** Share…, Share this container…, Revoke all, Leave. */
export function addShareCommands(context: ICommandContext): void {
  const { api, model, trans, target, refreshSoon } = context;
  const { commands } = context.app;

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
}
