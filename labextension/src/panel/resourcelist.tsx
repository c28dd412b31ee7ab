/**
 * A section's list of resources, navigable by keyboard like a listbox.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { IResource } from '../api';
import { CommandIDs } from '../commandids';
import { canManage, Place, SharingModel } from '../model';
import { GuestsInNow } from '../presence';
import { ResourceRow } from './resourcerow';
import { emptyText, SectionSource } from './words';

interface IResourceListProps {
  model: SharingModel;
  commands: CommandRegistry;
  source: SectionSource;
  trans: TranslationBundle;
  title: string;
  loaded: boolean;
  currentSessionId: string | null;
  items: ReadonlyArray<IResource>;
}

/** Open the application's context menu at a row, as a right click would. */
function openContextMenu(row: HTMLElement): void {
  const rect = row.getBoundingClientRect();
  row.dispatchEvent(
    new MouseEvent('contextmenu', {
      bubbles: true,
      cancelable: true,
      clientX: rect.left + Math.min(32, rect.width / 2),
      clientY: rect.top + rect.height
    })
  );
}

export function ResourceList(props: IResourceListProps): JSX.Element {
  const { model, commands, source, items, trans } = props;
  const [activeId, setActiveId] = React.useState<string | null>(null);
  const place: Place = source === 'shared' ? 'shared' : 'owned';
  const focusable =
    activeId !== null && items.some(r => r.id === activeId)
      ? activeId
      : (items[0]?.id ?? null);

  const onActivate = React.useCallback(
    (resource: IResource) => {
      const command = canManage(resource.access)
        ? CommandIDs.share
        : CommandIDs.details;
      void commands.execute(command, { id: resource.id });
    },
    [commands]
  );

  const onFocusRow = React.useCallback((id: string) => setActiveId(id), []);
  const onAsk = React.useCallback(
    (resource: IResource) =>
      void commands.execute(CommandIDs.askForMore, { id: resource.id }),
    [commands]
  );

  const onKeyDown = (event: React.KeyboardEvent<HTMLUListElement>) => {
    const list = event.currentTarget;
    const row = (event.target as HTMLElement).closest<HTMLElement>(
      '.jp-share-row'
    );
    if (event.target === list) {
      // The list itself has the focus: arrows enter it at its active row.
      if (['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) {
        event.preventDefault();
        event.stopPropagation();
        list.querySelector<HTMLElement>('.jp-share-row[tabindex="0"]')?.focus();
      }
      return;
    }
    if (!row || !list.contains(row)) {
      return;
    }
    const rows = Array.from(
      list.querySelectorAll<HTMLElement>('.jp-share-row')
    );
    const index = rows.indexOf(row);
    let next: HTMLElement | undefined;
    switch (event.key) {
      case 'ArrowDown':
        next = rows[Math.min(index + 1, rows.length - 1)];
        break;
      case 'ArrowUp':
        next = rows[Math.max(index - 1, 0)];
        break;
      case 'Home':
        next = rows[0];
        break;
      case 'End':
        next = rows[rows.length - 1];
        break;
      case 'Enter': {
        const resource = items.find(r => r.id === row.dataset.resourceId);
        if (resource) {
          event.preventDefault();
          event.stopPropagation();
          onActivate(resource);
        }
        return;
      }
      case 'ContextMenu':
      case 'F10':
        if (event.key === 'ContextMenu' || event.shiftKey) {
          event.preventDefault();
          event.stopPropagation();
          openContextMenu(row);
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (next) {
      next.focus();
      next.scrollIntoView({ block: 'nearest' });
    }
  };

  if (!props.loaded && items.length === 0) {
    return (
      <div className="jp-share-empty" aria-busy="true">
        {trans.__('Loading…')}
      </div>
    );
  }
  if (items.length === 0) {
    return (
      <div className="jp-share-empty" data-share-empty={source}>
        {emptyText(source, trans)}
      </div>
    );
  }
  const list = (
    <ul
      className="jp-share-list"
      role="listbox"
      aria-label={props.title}
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      {items.map(resource => (
        <ResourceRow
          key={resource.id}
          model={model}
          trans={trans}
          resource={resource}
          place={place}
          current={resource.id === props.currentSessionId}
          tabbable={resource.id === focusable}
          onActivate={onActivate}
          onFocusRow={onFocusRow}
          onAsk={onAsk}
          commands={commands}
        />
      ))}
    </ul>
  );
  // Under the container: who is in it now.
  return source === 'session' ? (
    <>
      {list}
      <GuestsInNow model={model} trans={trans} />
    </>
  ) : (
    list
  );
}
