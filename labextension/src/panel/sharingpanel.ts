/**
 * The Sharing side panel: my images, formations and containers, with the
 * shared badge, and what others shared with me.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { sharingIcon } from '../icons';
import { NULL_TRANS, SharingModel } from '../model';
import { ResourceSection } from './section';
import { StatusBanner } from './statusbanner';
import { SectionSource } from './words';

/** The DOM id of the panel (also its id in the shell). */
export const PANEL_ID = 'jupyter-share-panel';

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
