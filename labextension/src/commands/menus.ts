/**
 * Where the commands show: the rows' context menu and the command palette.
 */
import { ICommandPalette } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { MenuSvg } from '@jupyterlab/ui-components';

import { CommandIDs } from '../commandids';
import { ICommandContext } from './context';

/** The palette's category. */
const CATEGORY = 'Sharing';

/** The rows' context menu (selected by the rows' data attributes). */
export function addContextMenu(context: ICommandContext): void {
  const { app, trans } = context;
  const { commands } = app;

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
}

/** The commands that make sense outside the panel, in the palette. */
export function addToPalette(
  palette: ICommandPalette,
  trans: TranslationBundle
): void {
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
