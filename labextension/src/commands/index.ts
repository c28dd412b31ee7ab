/**
 * The Sharing panel's commands, one group a file: row actions (context
 * menu), palette commands and toolbar buttons.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';

import { ShareAPI } from '../api';
import { SharingModel } from '../model';
import { SharingPanel } from '../panel';
import { ImageUser } from '../useimage';
import { addContainerCommands } from './containers';
import { commandContext } from './context';
import { addFormationCommands } from './formations';
import { addImageCommands } from './images';
import { addContextMenu, addToPalette } from './menus';
import { addPanelCommands } from './panel';
import { addRequestCommands } from './requests';
import { addResourceCommands } from './resources';
import { addShareCommands } from './share';

/**
 * Add the commands, the rows' context menu and the palette's items.
 */
export function addCommands(
  app: JupyterFrontEnd,
  api: ShareAPI,
  model: SharingModel,
  panel: SharingPanel,
  palette: ICommandPalette | null,
  imageUser: ImageUser,
  trans: TranslationBundle,
  translator: ITranslator | null
): void {
  const context = commandContext({
    app,
    api,
    model,
    panel,
    imageUser,
    trans,
    translator
  });
  addShareCommands(context);
  addContainerCommands(context);
  addRequestCommands(context);
  addResourceCommands(context);
  addImageCommands(context);
  addFormationCommands(context);
  addPanelCommands(context);
  addContextMenu(context);
  if (palette) {
    addToPalette(palette, trans);
  }
}
