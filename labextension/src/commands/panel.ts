/**
 * The commands of the panel itself: show what is shared with me, refresh.
 */
import { refreshIcon } from '@jupyterlab/ui-components';

import { CommandIDs } from '../commandids';
import { PANEL_ID } from '../panel';
import { ICommandContext } from './context';

/** Show what is shared with me, Refresh. */
export function addPanelCommands(context: ICommandContext): void {
  const { app, panel, trans, refreshSoon } = context;
  const { commands } = app;

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
}
