/**
 * The commands of any resource: its details, and deleting it.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { CommandIDs } from '../commandids';
import { describe, showDetailsDialog } from '../dialogs';
import { errorMessage, kindLabel } from '../model';
import { ICommandContext } from './context';

/** Details…, Delete. */
export function addResourceCommands(context: ICommandContext): void {
  const { api, model, trans, translator, target, refreshSoon } = context;
  const { commands } = context.app;

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
}
