/**
 * The Share dialog, the forms that create images and formations, and the
 * details of a resource. All are JupyterLab `Dialog`s whose bodies are React.
 */
import { Clipboard, Dialog } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { copyIcon, HTMLSelect, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IGrant, IResource, Permission, PERMISSIONS, ShareAPI } from './api';
import { HistoryView } from './history';
import { groupPrincipalIcon, kindIcon, userPrincipalIcon } from './icons';
import {
  errorMessage,
  expiryFromDate,
  expiryLabel,
  kindLabel,
  NULL_TRANS,
  parsePrincipal,
  principalLabel,
  SharingModel
} from './model';
import { ShareAPIError } from './request';

/**
 * What edit (and manage) on a container trusts the neighbour with, said
 * before it is granted.
 */
export function containerTrust(trans: TranslationBundle = NULL_TRANS): string {
  return trans.__(
    'Edit runs code as you in this container: the neighbour can read and change every file your server can, including its token, and start programs that act as you. Grant it to people you trust with your account here. When you revoke it, choose “Revoke and re-key” so that nothing they copied still works.'
  );
}

/** What a permission allows, for the permission pickers. */
export function permissionHelp(
  permission: Permission,
  trans: TranslationBundle = NULL_TRANS
): string {
  switch (permission) {
    case 'view':
      return trans.__(
        'view: see it, launch from it, open a container read-only'
      );
    case 'edit':
      return trans.__(
        'edit: also change it; in a container, run code and write files'
      );
    case 'manage':
      return trans.__('manage: also share it and revoke access');
  }
}

// -- The Share dialog ------------------------------------------------------

/**
 * A dialog whose body handles Enter and Escape itself where it needs to: in
 * its forms Enter submits the form (not the dialog), and Escape closes an
 * open completion list (not the dialog).
 */
class ShareDialog extends Dialog<void> {
  protected _evtKeydown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    const form = target?.closest('.jp-share-form');
    if (form && this.node.contains(form)) {
      if (event.key === 'Enter' && !(target instanceof HTMLButtonElement)) {
        return;
      }
      if (
        event.key === 'Escape' &&
        target?.getAttribute('aria-expanded') === 'true'
      ) {
        return;
      }
    }
    super._evtKeydown(event);
  }
}

/**
 * Open the Share dialog of a resource I may manage.
 */
export async function showShareDialog(options: {
  api: ShareAPI;
  model: SharingModel;
  resource: IResource;
  trans?: TranslationBundle;
}): Promise<void> {
  const { resource } = options;
  const trans = options.trans ?? NULL_TRANS;
  const body = new ShareDialogBody({ ...options, trans });
  const dialog = new ShareDialog({
    title: trans.__(
      'Share %1 “%2”',
      kindLabel(resource.kind, trans),
      resource.name
    ),
    body,
    buttons: [Dialog.okButton({ label: trans.__('Done') })],
    focusNodeSelector: 'input[name="principal"]',
    hasClose: true
  });
  dialog.addClass('jp-share-dialog');
  await dialog.launch();
  dialog.dispose();
}

class ShareDialogBody extends ReactWidget {
  constructor(
    private _options: {
      api: ShareAPI;
      model: SharingModel;
      resource: IResource;
      trans: TranslationBundle;
    }
  ) {
    super();
    this.addClass('jp-share-dialog-body');
  }

  protected render(): JSX.Element {
    return <ShareForm {...this._options} />;
  }
}

interface ISuggestion {
  kind: 'user' | 'group';
  name: string;
  /** What the input gets: `bob` or `group:class-2026`. */
  value: string;
}

/** The suggestions of the directory for what was typed. */
async function suggest(
  api: ShareAPI,
  text: string,
  exclude: ReadonlyArray<string>
): Promise<ISuggestion[]> {
  const match = /^\s*(?:(user|group):)?(.*)$/.exec(text)!;
  const only = match[1] as 'user' | 'group' | undefined;
  const prefix = match[2].trim();
  const directory = await api.directory(prefix);
  const users: ISuggestion[] =
    only === 'group'
      ? []
      : directory.users
          .filter(name => !exclude.includes(name))
          .map(name => ({ kind: 'user', name, value: name }));
  const groups: ISuggestion[] =
    only === 'user'
      ? []
      : directory.groups.map(name => ({
          kind: 'group',
          name,
          value: `group:${name}`
        }));
  return [...users, ...groups];
}

function ShareForm(props: {
  api: ShareAPI;
  model: SharingModel;
  resource: IResource;
  trans: TranslationBundle;
}): JSX.Element {
  const { api, model, resource, trans } = props;
  const me = model.me?.username ?? '';
  const [principal, setPrincipal] = React.useState('');
  const [permission, setPermission] = React.useState<Permission>('view');
  const [expiry, setExpiry] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [errorField, setErrorField] = React.useState<string | null>(null);
  const [status, setStatus] = React.useState<string | null>(null);
  const [link, setLink] = React.useState<{ who: string; url: string } | null>(
    null
  );
  const [grants, setGrants] = React.useState<IGrant[] | null>(null);
  const [suggestions, setSuggestions] = React.useState<ISuggestion[]>([]);
  const [listOpen, setListOpen] = React.useState(false);
  const [activeSuggestion, setActiveSuggestion] = React.useState(-1);
  const lookup = React.useRef(0);
  const inputRef = React.useRef<HTMLInputElement>(null);
  const listId = `jp-share-suggestions-${resource.id}`;

  const fail = (reason: unknown) => {
    setError(errorMessage(reason));
    setErrorField(reason instanceof ShareAPIError ? reason.field : null);
  };

  const loadGrants = React.useCallback(async () => {
    try {
      setGrants(await api.grants(resource.kind, resource.id));
    } catch (reason) {
      fail(reason);
    }
  }, [api, resource]);

  React.useEffect(() => {
    void loadGrants();
  }, [loadGrants]);

  const changed = () => {
    model.scheduleRefresh();
    return loadGrants();
  };

  const lookUp = (text: string) => {
    const ticket = ++lookup.current;
    window.setTimeout(async () => {
      if (ticket !== lookup.current) {
        return;
      }
      try {
        const found = await suggest(api, text, [me, resource.owner]);
        if (ticket === lookup.current) {
          setSuggestions(previous => {
            const same =
              previous.length === found.length &&
              previous.every((s, i) => s.value === found[i].value);
            if (!same) {
              setActiveSuggestion(-1);
            }
            return same ? previous : found;
          });
          setListOpen(found.length > 0);
        }
      } catch {
        // Completion is a help; the share itself reports errors.
        setSuggestions([]);
        setListOpen(false);
      }
    }, 120);
  };

  const choose = (suggestion: ISuggestion) => {
    setPrincipal(suggestion.value);
    setListOpen(false);
    setActiveSuggestion(-1);
    lookup.current++;
    inputRef.current?.focus();
  };

  const share = async () => {
    setStatus(null);
    const parsed = parsePrincipal(principal);
    if (!parsed) {
      setError(trans.__('Type the name of a user, or group:NAME for a group.'));
      setErrorField('principal');
      inputRef.current?.focus();
      return;
    }
    let expiresAt: string | null;
    try {
      expiresAt = expiryFromDate(expiry, trans);
    } catch (reason) {
      fail(reason);
      return;
    }
    setBusy(true);
    setListOpen(false);
    lookup.current++;
    try {
      const grant = await api.share(
        resource.kind,
        resource.id,
        parsed.principal,
        {
          permission,
          expires_at: expiresAt
        }
      );
      setError(null);
      setErrorField(null);
      setStatus(
        trans.__(
          'Shared with %1 (%2, %3).',
          principalLabel(grant, trans),
          grant.permission,
          expiryLabel(grant.expires_at, trans)
        )
      );
      setLink(
        grant.link
          ? { who: principalLabel(grant, trans), url: grant.link }
          : null
      );
      setPrincipal('');
      await changed();
    } catch (reason) {
      fail(reason);
    } finally {
      setBusy(false);
      inputRef.current?.focus();
    }
  };

  const change = async (grant: IGrant, next: Permission) => {
    setStatus(null);
    setBusy(true);
    try {
      await api.share(resource.kind, resource.id, grant.principal, {
        permission: next,
        expires_at: grant.expires_at
      });
      setError(null);
      setStatus(
        trans.__('%1 now has %2 access.', principalLabel(grant, trans), next)
      );
      await changed();
    } catch (reason) {
      fail(reason);
      await loadGrants();
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (grant: IGrant, rekey = false) => {
    setStatus(null);
    setBusy(true);
    try {
      const answer = await api.revoke(
        resource.kind,
        resource.id,
        grant.principal,
        {
          rekey
        }
      );
      setError(null);
      setStatus(
        answer?.rekeyed
          ? trans.__(
              'Revoked %1. %2',
              principalLabel(grant, trans),
              answer.message
            )
          : trans.__('Revoked %1.', principalLabel(grant, trans))
      );
      await changed();
    } catch (reason) {
      fail(reason);
    } finally {
      setBusy(false);
    }
  };

  const onPrincipalKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!listOpen && suggestions.length > 0) {
          setListOpen(true);
        } else if (!listOpen) {
          lookUp(principal);
        }
        setActiveSuggestion(i => Math.min(i + 1, suggestions.length - 1));
        break;
      case 'ArrowUp':
        event.preventDefault();
        setActiveSuggestion(i => Math.max(i - 1, 0));
        break;
      case 'Escape':
        if (listOpen) {
          event.preventDefault();
          event.stopPropagation();
          setListOpen(false);
        }
        break;
      case 'Enter':
        event.preventDefault();
        if (
          listOpen &&
          activeSuggestion >= 0 &&
          suggestions[activeSuggestion]
        ) {
          choose(suggestions[activeSuggestion]);
        } else {
          void share();
        }
        break;
    }
  };

  const Icon = kindIcon(resource.kind);
  const errorId = `jp-share-error-${resource.id}`;
  return (
    <div className="jp-share-dialog-content">
      <p className="jp-share-dialog-subject">
        <Icon.react tag="span" className="jp-share-row-icon" />
        <span>
          {trans.__(
            '%1 · %2 of %3',
            resource.name,
            kindLabel(resource.kind, trans),
            resource.owner
          )}
        </span>
      </p>
      <form
        className="jp-share-form"
        aria-label={trans.__('Share with a user or a group')}
        onSubmit={event => {
          event.preventDefault();
          void share();
        }}
      >
        <div className="jp-share-principal">
          <label htmlFor={`jp-share-principal-${resource.id}`}>
            {trans.__('User or group')}
          </label>
          <input
            id={`jp-share-principal-${resource.id}`}
            ref={inputRef}
            className="jp-mod-styled jp-share-input"
            name="principal"
            type="text"
            autoComplete="off"
            spellCheck={false}
            placeholder={trans.__('user name, or group:name')}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={listOpen}
            aria-controls={listId}
            aria-activedescendant={
              listOpen && activeSuggestion >= 0
                ? `${listId}-${activeSuggestion}`
                : undefined
            }
            aria-invalid={errorField === 'principal'}
            aria-describedby={error ? errorId : undefined}
            value={principal}
            onChange={event => {
              setPrincipal(event.target.value);
              lookUp(event.target.value);
            }}
            onBlur={() => window.setTimeout(() => setListOpen(false), 150)}
            onKeyDown={onPrincipalKeyDown}
          />
          {listOpen && (
            <ul
              id={listId}
              className="jp-share-suggestions"
              role="listbox"
              aria-label={trans.__('Matching users and groups')}
            >
              {suggestions.map((s, i) => {
                const SuggestionIcon =
                  s.kind === 'group' ? groupPrincipalIcon : userPrincipalIcon;
                return (
                  <li
                    key={s.value}
                    id={`${listId}-${i}`}
                    role="option"
                    aria-selected={i === activeSuggestion}
                    className={`jp-share-suggestion${
                      i === activeSuggestion ? ' jp-mod-active' : ''
                    }`}
                    data-value={s.value}
                    onMouseDown={event => {
                      event.preventDefault();
                      choose(s);
                    }}
                  >
                    <SuggestionIcon.react tag="span" />
                    <span>{s.name}</span>
                    {s.kind === 'group' && (
                      <span className="jp-share-suggestion-kind">
                        {trans.__('group')}
                      </span>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </div>
        <div className="jp-share-field">
          <label htmlFor={`jp-share-permission-${resource.id}`}>
            {trans.__('Permission')}
          </label>
          <HTMLSelect
            id={`jp-share-permission-${resource.id}`}
            name="permission"
            value={permission}
            title={permissionHelp(permission, trans)}
            options={PERMISSIONS.map(p => ({
              value: p,
              label: p,
              title: permissionHelp(p, trans)
            }))}
            onChange={event => setPermission(event.target.value as Permission)}
          />
        </div>
        <div className="jp-share-field">
          <label htmlFor={`jp-share-expiry-${resource.id}`}>
            {trans.__('Until (optional)')}
          </label>
          <input
            id={`jp-share-expiry-${resource.id}`}
            className="jp-mod-styled"
            name="expires"
            type="date"
            value={expiry}
            aria-invalid={errorField === 'expires_at'}
            onChange={event => setExpiry(event.target.value)}
          />
        </div>
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept jp-share-submit"
          disabled={busy}
        >
          {trans.__('Share')}
        </button>
      </form>
      <p className="jp-share-help">{permissionHelp(permission, trans)}</p>
      {resource.kind === 'session' && permission !== 'view' && (
        <p className="jp-share-trust" role="note">
          {containerTrust(trans)}
        </p>
      )}
      {error && (
        <div id={errorId} className="jp-share-error" role="alert">
          {error}
        </div>
      )}
      {status && (
        <div className="jp-share-status-message" role="status">
          {status}
        </div>
      )}
      {link && <PersonalLink who={link.who} url={link.url} trans={trans} />}
      <h3 className="jp-share-access-title">{trans.__('Who has access')}</h3>
      <ul className="jp-share-access" aria-label={trans.__('Who has access')}>
        <li
          className="jp-share-access-row"
          data-principal={`user:${resource.owner}`}
        >
          <userPrincipalIcon.react tag="span" className="jp-share-row-icon" />
          <span className="jp-share-access-name">{resource.owner}</span>
          <span className="jp-share-access-owner">{trans.__('owner')}</span>
        </li>
        {grants === null ? (
          <li className="jp-share-access-row jp-share-muted">
            {trans.__('Loading…')}
          </li>
        ) : (
          grants.map(grant => (
            <GrantRow
              key={grant.principal}
              grant={grant}
              trans={trans}
              busy={busy}
              onChange={next => void change(grant, next)}
              onRevoke={rekey => void revoke(grant, rekey)}
              offerRekey={
                resource.kind === 'session' && grant.permission !== 'view'
              }
            />
          ))
        )}
      </ul>
      {grants !== null && grants.length === 0 && (
        <p className="jp-share-muted jp-share-access-empty">
          {trans.__('Not shared with anyone yet.')}
        </p>
      )}
    </div>
  );
}

function GrantRow(props: {
  grant: IGrant;
  trans: TranslationBundle;
  busy: boolean;
  onChange: (permission: Permission) => void;
  onRevoke: (rekey: boolean) => void;
  /** Edit on a container ran code as the owner: offer to re-key on revoking. */
  offerRekey: boolean;
}): JSX.Element {
  const { grant, trans } = props;
  const label = principalLabel(grant, trans);
  const [confirming, setConfirming] = React.useState(false);
  if (confirming) {
    return (
      <li
        className="jp-share-access-row jp-share-revoke-confirm"
        data-principal={grant.principal}
        role="group"
        aria-label={trans.__('Revoke %1', label)}
      >
        <p className="jp-share-trust">
          {trans.__(
            '%1 could run code as you here. Re-keying gives this server a new token and cookie secret, so nothing they copied still works; this browser stays signed in, other browsers and tokens sign in again.',
            label
          )}
        </p>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={() => setConfirming(false)}
        >
          {trans.__('Cancel')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-warn"
          disabled={props.busy}
          onClick={() => props.onRevoke(false)}
        >
          {trans.__('Revoke')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-warn jp-share-rekey"
          disabled={props.busy}
          onClick={() => props.onRevoke(true)}
        >
          {trans.__('Revoke and re-key')}
        </button>
      </li>
    );
  }
  const Icon = grant.kind === 'group' ? groupPrincipalIcon : userPrincipalIcon;
  return (
    <li className="jp-share-access-row" data-principal={grant.principal}>
      <Icon.react tag="span" className="jp-share-row-icon" />
      <span
        className="jp-share-access-name"
        title={trans.__('granted by %1', grant.granted_by)}
      >
        {grant.name}
        {grant.kind === 'group' && (
          <span className="jp-share-muted">{trans.__(' (group)')}</span>
        )}
      </span>
      <HTMLSelect
        className="jp-share-access-permission"
        name="grant-permission"
        aria-label={trans.__('Permission of %1', label)}
        value={grant.permission}
        disabled={props.busy}
        options={[...PERMISSIONS]}
        onChange={event => props.onChange(event.target.value as Permission)}
      />
      <span className="jp-share-access-expiry">
        {expiryLabel(grant.expires_at, trans)}
      </span>
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mod-warn jp-share-revoke"
        aria-label={trans.__('Revoke %1', label)}
        disabled={props.busy}
        onClick={() =>
          props.offerRekey ? setConfirming(true) : props.onRevoke(false)
        }
      >
        {trans.__('Revoke')}
      </button>
    </li>
  );
}

/** A container's personal share link, shown once, with a copy button. */
function PersonalLink(props: {
  who: string;
  url: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const [copied, setCopied] = React.useState(false);
  return (
    <div
      className="jp-share-link"
      role="group"
      aria-label={trans.__('Personal link')}
    >
      <p>
        {trans.__(
          'Send this personal link to %1: it opens this container under their own name. It is shown only now.',
          props.who
        )}
      </p>
      <div className="jp-share-link-row">
        <input
          className="jp-mod-styled"
          name="link"
          type="text"
          readOnly
          value={props.url}
          aria-label={trans.__('Personal link for %1', props.who)}
          onFocus={event => event.target.select()}
        />
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-share-copy"
          onClick={() => {
            Clipboard.copyToSystem(props.url);
            setCopied(true);
          }}
          aria-label={trans.__('Copy the link')}
        >
          <copyIcon.react tag="span" />
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </button>
      </div>
    </div>
  );
}

// -- Forms that create -----------------------------------------------------

/**
 * The body of a form dialog: it submits itself when the dialog is accepted,
 * and the dialog stays open (with everything typed) while it is refused.
 */
abstract class FormBody<T> extends ReactWidget {
  constructor() {
    super();
    this.addClass('jp-share-dialog-body');
  }

  /** Do what the form is for; throws (and shows why) when refused. */
  async submit(): Promise<void> {
    this.busy = true;
    this.error = null;
    this.errorField = null;
    this.update();
    try {
      this.result = await this.save();
    } catch (reason) {
      this.error = errorMessage(reason);
      this.errorField = reason instanceof ShareAPIError ? reason.field : null;
      throw reason;
    } finally {
      this.busy = false;
      this.update();
    }
  }

  getValue(): T | null {
    return this.result;
  }

  protected abstract save(): Promise<T>;

  protected renderError(): JSX.Element | null {
    return this.error ? (
      <div className="jp-share-error" role="alert">
        {this.error}
      </div>
    ) : null;
  }

  protected busy = false;
  protected error: string | null = null;
  protected errorField: string | null = null;
  protected result: T | null = null;
}

/** A dialog that closes on accept only once its form is saved. */
class FormDialog<T> extends Dialog<T | null> {
  constructor(
    private _form: FormBody<T>,
    options: { title: string; acceptLabel: string; trans: TranslationBundle }
  ) {
    super({
      title: options.title,
      body: _form,
      buttons: [
        Dialog.cancelButton({ label: options.trans.__('Cancel') }),
        Dialog.okButton({ label: options.acceptLabel })
      ],
      focusNodeSelector: 'input[name="name"]',
      hasClose: true
    });
    this.addClass('jp-share-dialog');
  }

  resolve(index?: number): void {
    const accept = index === undefined || index === 1;
    if (!accept) {
      super.resolve(index);
      return;
    }
    if (this._submitting) {
      return;
    }
    this._submitting = true;
    this._form.submit().then(
      () => {
        this._submitting = false;
        super.resolve(1);
      },
      () => {
        this._submitting = false;
      }
    );
  }

  private _submitting = false;
}

interface IField {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  placeholder?: string;
  invalid?: boolean;
  step?: string;
  min?: string;
}

function Field(props: IField): JSX.Element {
  const id = React.useMemo(
    () => `jp-share-field-${props.name}-${Math.random().toString(36).slice(2)}`,
    [props.name]
  );
  return (
    <div className="jp-share-form-row">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        className="jp-mod-styled"
        name={props.name}
        type={props.type ?? 'text'}
        placeholder={props.placeholder}
        value={props.value}
        step={props.step}
        min={props.min}
        aria-invalid={props.invalid}
        onChange={event => props.onChange(event.target.value)}
      />
    </div>
  );
}

class CreateImageForm extends FormBody<IResource> {
  constructor(
    private _api: ShareAPI,
    capture: boolean,
    private _trans: TranslationBundle
  ) {
    super();
    this._capture = capture;
  }

  protected async save(): Promise<IResource> {
    const body: any = {
      name: this._name,
      description: this._description || null
    };
    if (this._capture) {
      body.capture = true;
    }
    if (this._reference.trim()) {
      body.spec = { reference: this._reference.trim() };
    }
    return this._api.create('image', body);
  }

  protected render(): JSX.Element {
    const set = (apply: () => void) => {
      apply();
      this.update();
    };
    const trans = this._trans;
    return (
      <div className="jp-share-form-content">
        <Field
          name="name"
          label={trans.__('Name')}
          value={this._name}
          placeholder="CARET"
          invalid={this.errorField === 'name'}
          onChange={v => set(() => (this._name = v))}
        />
        <Field
          name="description"
          label={trans.__('Description (optional)')}
          value={this._description}
          onChange={v => set(() => (this._description = v))}
        />
        <div className="jp-share-form-row jp-share-form-check">
          <input
            id="jp-share-capture"
            type="checkbox"
            name="capture"
            checked={this._capture}
            onChange={event =>
              set(() => (this._capture = event.target.checked))
            }
          />
          <label htmlFor="jp-share-capture">
            {trans.__(
              'Capture this container’s environment (Python, packages, conda, kernels)'
            )}
          </label>
        </div>
        <Field
          name="reference"
          label={
            this._capture
              ? trans.__('Container image reference (optional)')
              : trans.__('Container image reference')
          }
          value={this._reference}
          placeholder="docker.io/library/python:3.12"
          invalid={this.errorField === 'spec.reference'}
          onChange={v => set(() => (this._reference = v))}
        />
        {this.renderError()}
        {this.busy && (
          <p className="jp-share-muted" role="status">
            {this._capture
              ? trans.__('Capturing the environment…')
              : trans.__('Creating…')}
          </p>
        )}
      </div>
    );
  }

  private _name = '';
  private _description = '';
  private _reference = '';
  private _capture: boolean;
}

class CreateFormationForm extends FormBody<IResource> {
  constructor(
    private _api: ShareAPI,
    private _images: ReadonlyArray<IResource>,
    private _trans: TranslationBundle
  ) {
    super();
    this._image = _images[0]?.id ?? '';
  }

  protected async save(): Promise<IResource> {
    const spec: any = {
      image: this._image === OTHER_IMAGE ? this._reference.trim() : this._image
    };
    if (this._cpu.trim()) {
      spec.cpu = Number(this._cpu);
    }
    if (this._memory.trim()) {
      spec.memory = this._memory.trim();
    }
    if (this._gpu.trim()) {
      spec.gpu = Number(this._gpu);
    }
    if (this._startUrl.trim()) {
      spec.start_url = this._startUrl.trim();
    }
    return this._api.create('formation', {
      name: this._name,
      description: this._description || null,
      spec
    });
  }

  protected render(): JSX.Element {
    const set = (apply: () => void) => {
      apply();
      this.update();
    };
    const invalid = (field: string) => this.errorField === field;
    const trans = this._trans;
    return (
      <div className="jp-share-form-content">
        <Field
          name="name"
          label={trans.__('Name')}
          value={this._name}
          invalid={invalid('name')}
          onChange={v => set(() => (this._name = v))}
        />
        <Field
          name="description"
          label={trans.__('Description (optional)')}
          value={this._description}
          onChange={v => set(() => (this._description = v))}
        />
        <div className="jp-share-form-row">
          <label htmlFor="jp-share-formation-image">{trans.__('Image')}</label>
          <HTMLSelect
            id="jp-share-formation-image"
            name="image"
            value={this._image}
            aria-invalid={invalid('spec.image')}
            options={[
              ...this._images.map(image => ({
                value: image.id,
                label:
                  image.access === 'owner'
                    ? image.name
                    : trans.__('%1 (from %2)', image.name, image.owner)
              })),
              {
                value: OTHER_IMAGE,
                label: trans.__('A container image reference…')
              }
            ]}
            onChange={event => set(() => (this._image = event.target.value))}
          />
        </div>
        {(this._image === OTHER_IMAGE || this._images.length === 0) && (
          <Field
            name="reference"
            label={trans.__('Container image reference')}
            value={this._reference}
            placeholder="docker.io/library/python:3.12"
            invalid={invalid('spec.image')}
            onChange={v => set(() => (this._reference = v))}
          />
        )}
        <div className="jp-share-form-grid">
          <Field
            name="cpu"
            label={trans.__('CPUs')}
            type="number"
            step="0.5"
            min="0"
            value={this._cpu}
            invalid={invalid('spec.cpu')}
            onChange={v => set(() => (this._cpu = v))}
          />
          <Field
            name="memory"
            label={trans.__('Memory')}
            placeholder="4G"
            value={this._memory}
            invalid={invalid('spec.memory')}
            onChange={v => set(() => (this._memory = v))}
          />
          <Field
            name="gpu"
            label={trans.__('GPUs')}
            type="number"
            min="0"
            value={this._gpu}
            invalid={invalid('spec.gpu')}
            onChange={v => set(() => (this._gpu = v))}
          />
        </div>
        <Field
          name="start_url"
          label={trans.__('Start URL (optional)')}
          placeholder="/lab"
          value={this._startUrl}
          invalid={invalid('spec.start_url')}
          onChange={v => set(() => (this._startUrl = v))}
        />
        {this.renderError()}
      </div>
    );
  }

  private _name = '';
  private _description = '';
  private _image: string;
  private _reference = '';
  private _cpu = '';
  private _memory = '';
  private _gpu = '';
  private _startUrl = '';
}

const OTHER_IMAGE = '\u0000other';

/**
 * The form for a new image; resolves with the new image, or null when cancelled.
 *
 * @param options.title The dialog's title
 * @param options.capture Whether capturing this container's environment is ticked
 */
export async function showCreateImageDialog(
  api: ShareAPI,
  options: { title: string; capture: boolean },
  trans: TranslationBundle = NULL_TRANS
): Promise<IResource | null> {
  const form = new CreateImageForm(api, options.capture, trans);
  const dialog = new FormDialog(form, {
    title: options.title,
    acceptLabel: trans.__('Create'),
    trans
  });
  const result = await dialog.launch();
  dialog.dispose();
  return result.button.accept ? form.getValue() : null;
}

/** The form for a new formation; resolves with it, or null when cancelled. */
export async function showCreateFormationDialog(
  api: ShareAPI,
  images: ReadonlyArray<IResource>,
  trans: TranslationBundle = NULL_TRANS
): Promise<IResource | null> {
  const form = new CreateFormationForm(api, images, trans);
  const dialog = new FormDialog(form, {
    title: trans.__('Create formation'),
    acceptLabel: trans.__('Create'),
    trans
  });
  const result = await dialog.launch();
  dialog.dispose();
  return result.button.accept ? form.getValue() : null;
}

// -- Details ---------------------------------------------------------------

function Details(props: {
  resource: IResource;
  api?: ShareAPI;
  trans?: TranslationBundle;
}): JSX.Element {
  const { api } = props;
  const trans = props.trans ?? NULL_TRANS;
  // A list carries the spec without the captured environment: read it all.
  const [resource, setResource] = React.useState(props.resource);
  React.useEffect(() => {
    if (api) {
      api.get(props.resource.kind, props.resource.id).then(
        full => setResource(full),
        () => undefined
      );
    }
  }, [api, props.resource.kind, props.resource.id]);
  const rows: [string, string][] = [
    [trans.__('Kind'), kindLabel(resource.kind, trans)],
    [trans.__('Owner'), resource.owner],
    [trans.__('Your access'), resource.access],
    [trans.__('Created'), new Date(resource.created_at).toLocaleString()],
    [trans.__('Changed'), new Date(resource.updated_at).toLocaleString()]
  ];
  if (resource.access !== 'owner') {
    rows.push([trans.__('Expires'), expiryLabel(resource.expires_at, trans)]);
  }
  if (resource.description) {
    rows.push([trans.__('Description'), resource.description]);
  }
  return (
    <div className="jp-share-details">
      <dl>
        {rows.map(([term, value]) => (
          <React.Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </React.Fragment>
        ))}
      </dl>
      <h3 className="jp-share-access-title">{trans.__('Specification')}</h3>
      <pre className="jp-share-spec">
        {JSON.stringify(resource.spec, null, 2)}
      </pre>
      {api && props.trans && (
        <HistoryView api={api} resource={props.resource} trans={trans} />
      )}
    </div>
  );
}

/** The details dialog's title: "Image “CARET”". */
function detailsTitle(resource: IResource, trans: TranslationBundle): string {
  switch (resource.kind) {
    case 'image':
      return trans.__('Image “%1”', resource.name);
    case 'formation':
      return trans.__('Formation “%1”', resource.name);
    case 'session':
      return trans.__('Container “%1”', resource.name);
  }
}

/**
 * Show a resource's details, its whole spec and (given the API) its history.
 */
export async function showDetailsDialog(
  resource: IResource,
  api?: ShareAPI,
  translator?: ITranslator
): Promise<void> {
  const trans = (translator ?? nullTranslator).load('jupyter_share');
  const dialog = new Dialog({
    title: detailsTitle(resource, trans),
    body: ReactWidget.create(
      <Details resource={resource} api={api} trans={trans} />
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })],
    hasClose: true
  });
  dialog.addClass('jp-share-dialog');
  await dialog.launch();
  dialog.dispose();
}

/** The kind-aware word for confirmations ("the image CARET"). */
export function describe(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string {
  return trans.__(
    'the %1 “%2”',
    kindLabel(resource.kind, trans),
    resource.name
  );
}
