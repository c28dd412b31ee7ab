/**
 * The commands of images: create one (from this container or not), download
 * its captured environment, use it here.
 */
import { showErrorMessage } from '@jupyterlab/apputils';

import { EnvironmentFormat } from '../api';
import { CommandIDs } from '../commandids';
import { showCreateImageDialog } from '../dialogs';
import { imageKindIcon } from '../icons';
import { errorMessage } from '../model';
import { PANEL_ID } from '../panel';
import { ICommandContext } from './context';

/**
 * Create image…, Create image from this container…, Download environment,
 * Use in this container….
 */
export function addImageCommands(context: ICommandContext): void {
  const { app, api, panel, imageUser, trans, target, refreshSoon } = context;
  const { commands } = app;

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
}
