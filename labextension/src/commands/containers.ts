/**
 * The commands of containers shared with me.
 */
import { sessionSpec } from '../api';
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
        !!found &&
        !!sessionSpec(found.resource)?.url
      );
    },
    execute: args => {
      const found = target(args);
      const url = found ? sessionSpec(found.resource)?.url : undefined;
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
