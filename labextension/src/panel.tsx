/**
 * The Sharing side panel: my images, formations and containers, with the
 * shared badge, and what others shared with me.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  ReactWidget,
  refreshIcon,
  SidePanel,
  UseSignal
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IGrantee, IResource, Kind } from './api';
import { CommandIDs } from './commandids';
import { sharingIcon } from './icons';
import { LaunchButton } from './launchbutton';
import { nextPermission } from './requests';
import {
  badgeTooltip,
  canManage,
  expiryLabel,
  kindLabel,
  NULL_TRANS,
  Place,
  sectionTitle,
  SharingModel
} from './model';
import { GuestsInNow } from './presence';
import { StopButton } from './stopbutton';

/** The DOM id of the panel (also its id in the shell). */
export const PANEL_ID = 'jupyter-share-panel';

/**
 * For a container whose server has stopped (its server recorded it, or another
 * server of its machine found it gone), the row's tooltip; else null.
 */
export function stoppedTitle(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string | null {
  if (resource.kind !== 'session' || resource.spec?.state !== 'stopped') {
    return null;
  }
  const at = resource.spec.stopped_at;
  return at
    ? trans.__('Its server stopped at %1', new Date(at).toLocaleString())
    : trans.__('Its server stopped');
}

/** Which list a section shows: my resources of a kind, or those shared with me. */
export type SectionSource = Kind | 'shared';

/** A short description of a resource's spec for its row. */
export function specSummary(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string {
  const spec = resource.spec ?? {};
  switch (resource.kind) {
    case 'image': {
      const parts: string[] = [];
      if (spec.reference) {
        parts.push(String(spec.reference));
      }
      // Lists carry a summary of the captured environment, not the whole.
      const env = resource.environment;
      if (env) {
        const python = env.python
          ? trans.__('Python %1', String(env.python).split(' ')[0])
          : trans.__('captured');
        parts.push(
          trans._n('%2, %1 package', '%2, %1 packages', env.packages, python)
        );
      }
      return parts.join(' · ');
    }
    case 'formation': {
      const parts: string[] = [];
      if (spec.cpu !== undefined) {
        parts.push(trans.__('%1 CPU', spec.cpu));
      }
      if (spec.memory) {
        parts.push(String(spec.memory));
      }
      if (spec.gpu) {
        parts.push(trans.__('%1 GPU', spec.gpu));
      }
      return parts.join(' · ');
    }
    case 'session':
      return String(spec.url ?? '');
  }
  return '';
}

/**
 * The Sharing panel.
 */
export class SharingPanel extends SidePanel {
  constructor(options: SharingPanel.IOptions) {
    super();
    this.model = options.model;
    this._commands = options.commands;
    const trans = options.trans ?? NULL_TRANS;
    this.id = PANEL_ID;
    this.addClass('jp-share-panel');
    this.title.icon = sharingIcon;
    this.title.caption = trans.__('Sharing');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('Sharing'));
    this.node.tabIndex = -1;

    const heading = document.createElement('h2');
    heading.textContent = trans.__('Sharing');
    heading.className = 'jp-share-panel-heading jp-text-truncated';
    this.header.addWidget(new Widget({ node: heading }));
    this.header.addWidget(new StatusBanner(this.model, trans));

    this._sections = new Map();
    for (const source of ['image', 'formation', 'session', 'shared'] as const) {
      const section = new ResourceSection({
        model: this.model,
        commands: this._commands,
        source,
        trans
      });
      this._sections.set(source, section);
      this.addWidget(section);
    }
  }

  /** The model shown. */
  readonly model: SharingModel;

  /** A section by what it lists. */
  section(source: SectionSource): ResourceSection {
    return this._sections.get(source)!;
  }

  /**
   * Expand a section and move the keyboard focus into it (to a row, when
   * given). Call it after activating the panel.
   */
  reveal(source: SectionSource, id?: string): void {
    const section = this.section(source);
    const accordion = this.content as any;
    const index = this.widgets.indexOf(section);
    if (!section.isVisible && typeof accordion.expand === 'function') {
      accordion.expand(index);
    }
    // Activation (a posted message) focuses too: it must focus this row.
    this._reveal = { source, id };
    section.focusRow(id);
  }

  /** The resource of the row that has the keyboard focus, if any. */
  focusedResourceId(): string | null {
    const active = document.activeElement as HTMLElement | null;
    if (active && this.node.contains(active)) {
      const row = active.closest<HTMLElement>('[data-resource-id]');
      return row?.dataset.resourceId ?? null;
    }
    return null;
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    const reveal = this._reveal;
    this._reveal = null;
    if (reveal) {
      this.section(reveal.source).focusRow(reveal.id);
    } else if (!this.node.contains(document.activeElement)) {
      // Like the file browser: the keyboard goes to the panel; arrows then
      // enter its first list (see handleEvent).
      this.node.focus();
    }
  }

  handleEvent(event: Event): void {
    if (event.type !== 'keydown' || event.target !== this.node) {
      return;
    }
    const key = (event as KeyboardEvent).key;
    if (['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(key)) {
      const section = this.widgets.find(
        w =>
          w instanceof ResourceSection &&
          w.isVisible &&
          w.node.querySelector('.jp-share-row')
      ) as ResourceSection | undefined;
      if (section) {
        event.preventDefault();
        section.focusRow();
      }
    }
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.node.addEventListener('keydown', this);
  }

  protected onBeforeDetach(msg: Message): void {
    this.node.removeEventListener('keydown', this);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Owned lists change without events too (a neighbour leaves): look again.
    if (this.model.loaded) {
      this.model.scheduleRefresh(0);
    }
  }

  private _commands: CommandRegistry;
  private _sections: Map<SectionSource, ResourceSection>;
  private _reveal: { source: SectionSource; id?: string } | null = null;
}

/** The statics of `SharingPanel`. */
export namespace SharingPanel {
  export interface IOptions {
    model: SharingModel;
    commands: CommandRegistry;
    /** The words (untranslated without one). */
    trans?: TranslationBundle;
  }
}

/**
 * What went wrong with the last refresh, with a retry; nothing when all is well.
 */
class StatusBanner extends ReactWidget {
  constructor(
    private _model: SharingModel,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-share-status');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() =>
          this._model.error ? (
            <div className="jp-share-error" role="alert">
              <span>
                {this._trans.__(
                  'Could not load what is shared: %1',
                  this._model.error
                )}
              </span>
              <button
                className="jp-Button jp-mod-minimal jp-share-retry"
                onClick={() =>
                  void this._model.refresh().catch(() => undefined)
                }
                aria-label={this._trans.__('Retry loading')}
                title={this._trans.__('Retry')}
              >
                <refreshIcon.react tag="span" />
              </button>
            </div>
          ) : null
        }
      </UseSignal>
    );
  }
}

/**
 * One section of the panel: a keyboard-navigable list of resources.
 */
export class ResourceSection extends ReactWidget {
  constructor(options: ResourceSection.IOptions) {
    super();
    this._model = options.model;
    this._commands = options.commands;
    this.source = options.source;
    this._trans = options.trans ?? NULL_TRANS;
    this.addClass('jp-share-section');
    this.node.dataset.shareSection = this.source;
    this.title.label =
      this.source === 'shared'
        ? this._trans.__('Shared with me')
        : sectionTitle(this.source, this._trans);
    this._model.changed.connect(() => this.update(), this);
  }

  /** What this section lists. */
  readonly source: SectionSource;

  /**
   * Focus a row: the given one (waiting up to a second for it to render), or
   * else the active one, or the first.
   */
  focusRow(id?: string): void {
    const deadline = performance.now() + 1000;
    const attempt = () => {
      const wanted = id
        ? this.node.querySelector<HTMLElement>(
            `[data-resource-id="${CSS.escape(id)}"]`
          )
        : null;
      if (!wanted && id && performance.now() < deadline) {
        requestAnimationFrame(attempt);
        return;
      }
      const row =
        wanted ??
        this.node.querySelector<HTMLElement>('.jp-share-row[tabindex="0"]') ??
        this.node.querySelector<HTMLElement>('.jp-share-row');
      if (row) {
        row.focus();
        row.scrollIntoView({ block: 'nearest' });
        // What opened the panel (a menu, the palette) may take the focus
        // back as it closes: keep it here for the next frame too.
        requestAnimationFrame(() => {
          if (row.isConnected && !this.node.contains(document.activeElement)) {
            row.focus();
          }
        });
      }
    };
    attempt();
  }

  protected render(): JSX.Element {
    return (
      <ResourceList
        model={this._model}
        commands={this._commands}
        source={this.source}
        trans={this._trans}
        title={this.title.label}
        loaded={this._model.loaded}
        currentSessionId={this._model.currentSessionId}
        items={
          this.source === 'shared'
            ? this._model.shared
            : this._model.owned(this.source)
        }
      />
    );
  }

  /** Render only what can be seen: a hidden section renders when shown. */
  protected onUpdateRequest(msg: Message): void {
    if (!this.isVisible) {
      this._stale = true;
      return;
    }
    this._stale = false;
    super.onUpdateRequest(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._stale) {
      this.update();
    }
  }

  private _model: SharingModel;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _stale = false;
}

/** The statics of `ResourceSection`. */
export namespace ResourceSection {
  export interface IOptions {
    model: SharingModel;
    commands: CommandRegistry;
    source: SectionSource;
    /** The words (untranslated without one). */
    trans?: TranslationBundle;
  }
}

/** What to do when a section is empty. */
function emptyText(source: SectionSource, trans: TranslationBundle): string {
  switch (source) {
    case 'image':
      return trans.__(
        'No images yet. Create one with the + button above, or capture this container with “Create image from this container…” in the command palette.'
      );
    case 'formation':
      return trans.__(
        'No formations yet. A formation is a launch template (image, CPUs, memory, storage): create one with the toolbar button above.'
      );
    case 'session':
      return trans.__(
        'This container appears here once the server has registered it.'
      );
    case 'shared':
      return trans.__(
        'Nothing shared with you yet. When someone shares an image, a formation or their container with you, it appears here.'
      );
  }
}

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

function ResourceList(props: IResourceListProps): JSX.Element {
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

interface IResourceRowProps {
  model: SharingModel;
  trans: TranslationBundle;
  resource: IResource;
  place: Place;
  current: boolean;
  tabbable: boolean;
  onActivate: (resource: IResource) => void;
  onFocusRow: (id: string) => void;
  /** Ask the owner for more (rows shared with me, below manage). */
  onAsk?: (resource: IResource) => void;
  commands: CommandRegistry;
}

/** One resource. Rendered again only when its resource or flags change. */
// eslint-disable-next-line prefer-arrow-callback -- a named function names the row in React's tools
const ResourceRow = React.memo(function ResourceRow(
  props: IResourceRowProps
): JSX.Element {
  const { resource, place, current, tabbable, trans } = props;
  const badged = place === 'owned' && resource.shared;
  // Who holds access comes with the list (no request per hover).
  const grants = badged ? resource.grantees : undefined;
  const summary = place === 'owned' ? specSummary(resource, trans) : '';
  const stopped = stoppedTitle(resource, trans);
  const nameTitle = [resource.name, resource.description, summary]
    .filter(Boolean)
    .join('\n');
  const kind = kindLabel(resource.kind, trans);
  const label =
    place === 'owned'
      ? badged
        ? trans.__(
            '%1, %2, %3',
            resource.name,
            kind,
            badgeTooltip(resource.share_count ?? 0, grants, trans)
          )
        : trans.__('%1, %2', resource.name, kind)
      : trans.__(
          '%1, %2 from %3, %4, %5',
          resource.name,
          kind,
          resource.owner,
          resource.access,
          expiryLabel(resource.expires_at, trans)
        );
  return (
    <li
      className={`jp-share-row${current ? ' jp-mod-current' : ''}`}
      role="option"
      aria-selected={tabbable}
      aria-label={label}
      tabIndex={tabbable ? 0 : -1}
      data-resource-id={resource.id}
      data-resource-kind={resource.kind}
      data-share-place={place}
      data-share-access={resource.access}
      data-share-manage={canManage(resource.access) ? 'true' : 'false'}
      data-share-shared={resource.shared ? 'true' : 'false'}
      data-share-state={stopped ? 'stopped' : undefined}
      data-share-environment={
        resource.kind === 'image' && resource.environment ? 'true' : 'false'
      }
      onFocus={() => props.onFocusRow(resource.id)}
      onDoubleClick={() => props.onActivate(resource)}
    >
      <span
        className="jp-share-row-icon jp-share-glyph"
        data-glyph={resource.kind}
        title={kind}
      />
      <span className="jp-share-row-main">
        <span className="jp-share-row-line">
          <span className="jp-share-row-name" title={nameTitle}>
            {resource.name}
          </span>
          {stopped && (
            <span className="jp-share-state" title={stopped}>
              {trans.__('stopped')}
            </span>
          )}
          {badged && (
            <SharedBadge
              count={resource.share_count ?? 0}
              grants={grants}
              trans={trans}
            />
          )}
          {place === 'shared' && (
            <span
              className="jp-share-permission"
              data-permission={resource.access}
              title={trans.__('Your access: %1', resource.access)}
            >
              {resource.access}
            </span>
          )}
          {place === 'shared' &&
            props.onAsk &&
            nextPermission(resource.access) && (
              <button
                type="button"
                className="jp-share-ask-row"
                tabIndex={-1}
                title={trans.__(
                  'Ask %1 for %2',
                  resource.owner,
                  nextPermission(resource.access)
                )}
                onClick={event => {
                  event.stopPropagation();
                  props.onAsk?.(resource);
                }}
              >
                {trans.__('Ask for %1', nextPermission(resource.access))}
              </button>
            )}
          <LaunchButton
            resource={resource}
            commands={props.commands}
            trans={trans}
          />
          <StopButton
            resource={resource}
            commands={props.commands}
            trans={trans}
          />
        </span>
        {place === 'shared' ? (
          <span className="jp-share-row-detail">
            {trans.__('from')}{' '}
            <span className="jp-share-row-owner">{resource.owner}</span>
            {' · '}
            <span className="jp-share-row-expiry">
              {expiryLabel(resource.expires_at, trans)}
            </span>
          </span>
        ) : summary || current ? (
          <span className="jp-share-row-detail">
            {current && (
              <span className="jp-share-row-note">
                {trans.__('this container')}
              </span>
            )}
            {current && summary ? ' · ' : ''}
            {summary}
          </span>
        ) : null}
      </span>
    </li>
  );
});

/**
 * The grey badge of a shared resource: how many grants, and who holds them
 * (as the list answer names them).
 */
function SharedBadge(props: {
  count: number;
  grants: ReadonlyArray<IGrantee> | null | undefined;
  trans: TranslationBundle;
}): JSX.Element {
  const tooltip = badgeTooltip(props.count, props.grants, props.trans);
  return (
    <span
      className="jp-share-badge"
      title={tooltip}
      aria-label={tooltip}
      data-share-count={props.count}
    >
      <span className="jp-share-glyph" data-glyph="group" />
      <span className="jp-share-badge-count">{props.count}</span>
    </span>
  );
}
