/**
 * The commands of containers shared with me.
 */
import { CommandIDs } from '../commandids';
import { ICommandContext } from './context';

/** Open container. */
export function addContainerCommands(context: ICommandContext): void {
  const { trans, target } = context;
  const { commands } = context.app;

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
}
