/**
 * The commands of formations: create one; launch one, and stop what was
 * launched (their commands live in launch.ts).
 */
import { CommandIDs } from '../commandids';
import { showCreateFormationDialog } from '../dialogs';
import { addLaunchCommands } from '../launch';
import { PANEL_ID } from '../panel';
import { ICommandContext } from './context';

/** Create formation…, and Launch and Stop (`launch.ts`). */
export function addFormationCommands(context: ICommandContext): void {
  const { app, api, model, panel, trans, target, refreshSoon } = context;
  const { commands } = app;

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
}
