/**
 * The commands that ask the owner for more.
 */
import { showAskDialog } from '../askdialog';
import { CommandIDs } from '../commandids';
import { nextPermission, RequestsAPI } from '../requests';
import { ICommandContext } from './context';

/** Ask for more… */
export function addRequestCommands(context: ICommandContext): void {
  const { api, trans, target } = context;
  const { commands } = context.app;

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
}
