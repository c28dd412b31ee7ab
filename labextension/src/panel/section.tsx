/**
 * One section of the Sharing panel (my images, formations, containers, or
 * what is shared with me): a widget that renders its list when visible.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { NULL_TRANS, sectionTitle, SharingModel } from '../model';
import { ResourceList } from './resourcelist';
import { SectionSource } from './words';

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
