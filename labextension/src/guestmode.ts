/**
 * A guest's JupyterLab fits their grant.
 *
 * view: documents open read-only (no editable cell or editor), no kernel is
 * started for them, and nothing on screen invites what the grant refuses (the
 * launcher's notebook, console and terminal tiles; new, upload, rename and
 * delete in the file browser). The server refuses all of it anyway
 * (jupyter_share.service.guests); this keeps the screen honest.
 *
 * The grant is followed while the page is open: a raise to edit makes the
 * documents editable without a reload, a lowering makes them read-only, and
 * when access ends (revoked, expired) the guest sees a page that says so
 * instead of a dead kernel.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import {
  INotebookTracker,
  Notebook,
  NotebookPanel
} from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { IMe, Permission, ShareAPI } from './api';
import { PERMISSION_CHANGED } from './askbutton';
import { NULL_TRANS } from './model';

/** The words of the guest's banner (set by the main plugin). */
export type BannerText = (
  owner: string,
  permission: string,
  expiresAt?: string | null,
  trans?: TranslationBundle
) => string;

/**
 * A guest's JupyterLab in the mode of their grant: a plugin of its own, so
 * that it can ask for the notebook and editor trackers.
 */
export function guestModePlugin(
  bannerText: BannerText
): JupyterFrontEndPlugin<void> {
  return {
    id: 'jupyter-share:guest-mode',
    description: "A guest's JupyterLab fits their grant and follows it.",
    autoStart: true,
    optional: [INotebookTracker, IEditorTracker, ITranslator],
    activate: (
      app: JupyterFrontEnd,
      notebooks: INotebookTracker | null,
      editors: IEditorTracker | null,
      translator: ITranslator | null
    ) => {
      const trans = (translator ?? nullTranslator).load('jupyter_share');
      const api = new ShareAPI(app.serviceManager.serverSettings);
      const showBanner = (me: IMe) => {
        const text = document.querySelector(
          '#jupyter-share-guest-banner .jp-share-guest-banner-text'
        );
        if (text && me.guest) {
          text.textContent = bannerText(
            me.guest.owner,
            me.guest.permission,
            me.guest.expires_at,
            trans
          );
        }
      };
      api.me().then(
        me => {
          if (!me.guest) {
            return;
          }
          startGuestMode(
            app,
            api,
            me,
            notebooks,
            editors,
            next => {
              showBanner(next);
              // The banner's "Ask for …" button offers what is above the new grant.
              document
                .getElementById('jupyter-share-guest-banner')
                ?.dispatchEvent(
                  new CustomEvent(PERMISSION_CHANGED, {
                    detail: next.guest?.permission
                  })
                );
            },
            trans
          );
          // The main plugin adds the banner once it knows this is a guest.
          requestAnimationFrame(() => showBanner(me));
          window.setTimeout(() => showBanner(me), 1000);
        },
        () => undefined
      );
    }
  };
}

/** The body class of a view guest's JupyterLab (see style/base.css). */
export const VIEW_GUEST_CLASS = 'jp-share-view-guest';

/** How often the grant is checked, in ms (a view guest has no event stream). */
const FOLLOW_EVERY = 2000;

/**
 * How often a view guest's open documents are compared with the owner's saved
 * files, in ms, where no collaboration room brings changes live.
 */
const REFRESH_EVERY = 2000;

/** A document widget as far as following its file goes. */
interface IFollowed {
  context: {
    path: string;
    isReady: boolean;
    model: { collaborative?: boolean; dirty: boolean };
    contentsModel: { last_modified?: string } | null;
    revert(): Promise<void>;
  };
}

/**
 * Follow the owner's saves: a view guest's open document is read again when
 * its file changed (without jupyter-collaboration; with it, the room is live).
 */
async function refreshSaved(
  app: JupyterFrontEnd,
  widget: IFollowed
): Promise<void> {
  const context = widget.context;
  if (!context.isReady || context.model.collaborative) {
    return;
  }
  const seen = context.contentsModel?.last_modified;
  const now = await app.serviceManager.contents.get(context.path, {
    content: false
  });
  if (seen && now.last_modified && now.last_modified !== seen) {
    await context.revert();
  }
}

/**
 * A cell read-only on this screen only. A notebook writes a cell's read-only
 * and collapsed states into its document (`editable`, `jupyter`
 * metadata): a view guest's JupyterLab must write nothing there. With
 * jupyter-collaboration the server would drop it anyway, and his copy of the
 * document would then hold changes the room never took, on which his edits
 * after a raise to edit would depend.
 */
function holdCell(cell: Notebook['widgets'][number], readOnly: boolean): void {
  if (readOnly) {
    cell.syncEditable = false;
    cell.syncCollapse = false;
    cell.readOnly = true;
  } else if (cell.syncEditable === false) {
    cell.readOnly = false;
    // Back to the document's own states (a cell the owner locked stays so).
    cell.syncEditable = true;
    cell.syncCollapse = true;
  }
}

export interface IGuestMode {
  /** The permission now (null once access ended). */
  readonly permission: Permission | null;
}

/** Put the guest's JupyterLab in the mode of their grant, and follow it. */
export function startGuestMode(
  app: JupyterFrontEnd,
  api: ShareAPI,
  me: IMe,
  notebooks: INotebookTracker | null,
  editors: IEditorTracker | null,
  onChange: (me: IMe) => void,
  trans: TranslationBundle = NULL_TRANS
): IGuestMode {
  const mode = {
    permission: (me.guest?.permission ?? null) as Permission | null
  };
  const readOnly = () => mode.permission === 'view';

  const holdNotebook = (panel: NotebookPanel) => {
    if (readOnly()) {
      // Before the session context starts: no kernel is asked for, and the
      // owner's kernel for this notebook (its session) is not connected to:
      // view does not reach kernels, the client would retry for ever.
      panel.sessionContext.kernelPreference = {
        ...panel.sessionContext.kernelPreference,
        shouldStart: false,
        canStart: false,
        shouldReuse: false,
        autoStartDefault: false
      };
    }
    const apply = () => {
      for (const cell of panel.content.widgets) {
        holdCell(cell, readOnly());
      }
    };
    apply();
    panel.content.model?.cells.changed.connect(() =>
      requestAnimationFrame(apply)
    );
    panel.context.ready.then(apply, () => undefined);
  };

  const apply = () => {
    document.body.classList.toggle(VIEW_GUEST_CLASS, readOnly());
    notebooks?.forEach(panel => {
      for (const cell of panel.content.widgets) {
        holdCell(cell, readOnly());
      }
      panel.sessionContext.kernelPreference = {
        ...panel.sessionContext.kernelPreference,
        canStart: !readOnly(),
        shouldStart: !readOnly(),
        // Raised, running a cell joins the owner's session of this notebook.
        shouldReuse: !readOnly()
      };
    });
    editors?.forEach(widget => {
      widget.content.editor.setOption('readOnly', readOnly());
    });
  };

  notebooks?.widgetAdded.connect((_, panel) => holdNotebook(panel));
  // The factory's signal comes before the document's session starts; the
  // tracker's may come after.
  app.docRegistry
    .getWidgetFactory('Notebook')
    ?.widgetCreated.connect((_, widget) =>
      holdNotebook(widget as NotebookPanel)
    );
  editors?.widgetAdded.connect((_, widget) =>
    widget.content.editor.setOption('readOnly', readOnly())
  );
  apply();

  const follow = async () => {
    let next: IMe | null = null;
    try {
      next = await api.me();
    } catch {
      next = null; // signed out: the link is dead
    }
    const permission = next?.guest?.permission ?? null;
    if (permission === mode.permission) {
      return;
    }
    mode.permission = permission;
    if (next === null || permission === null) {
      window.clearInterval(timer);
      showAccessEnded(me, trans);
      return;
    }
    apply();
    onChange(next);
  };
  const timer = window.setInterval(() => void follow(), FOLLOW_EVERY);
  const refresher = window.setInterval(() => {
    if (!readOnly()) {
      return;
    }
    const open: IFollowed[] = [];
    notebooks?.forEach(panel => open.push(panel as unknown as IFollowed));
    editors?.forEach(widget => open.push(widget as unknown as IFollowed));
    for (const widget of open) {
      refreshSaved(app, widget).catch(() => undefined);
    }
  }, REFRESH_EVERY);
  window.addEventListener('beforeunload', () =>
    window.clearInterval(refresher)
  );
  return mode;
}

/** The page a guest sees once their access ended, in place of JupyterLab. */
export function showAccessEnded(
  me: IMe,
  trans: TranslationBundle = NULL_TRANS
): void {
  const owner = me.guest?.owner ?? trans.__('The owner');
  const expires = me.guest?.expires_at ? Date.parse(me.guest.expires_at) : NaN;
  const expired = !isNaN(expires) && expires <= Date.now();
  const page = document.createElement('div');
  page.id = 'jupyter-share-access-ended';
  page.className = 'jp-share-access-ended';
  page.setAttribute('role', 'alert');
  const title = document.createElement('h1');
  title.textContent = expired
    ? trans.__("Your access to %1's container has expired", owner)
    : trans.__('%1 ended your access to their container', owner);
  const text = document.createElement('p');
  text.textContent = trans.__(
    'Nothing you started there runs any more. Ask %1 for a new link if you need to come back.',
    me.guest?.owner ?? trans.__('the owner')
  );
  page.append(title, text);
  document.body.replaceChildren(page);
}
