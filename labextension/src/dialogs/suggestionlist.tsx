/**
 * The completion list under the Share dialog's principal input.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { groupPrincipalIcon, userPrincipalIcon } from '../icons';
import { ISuggestion } from './completion';

export function SuggestionList(props: {
  /** The list's DOM id; option `i` is `${id}-${i}`. */
  id: string;
  suggestions: ReadonlyArray<ISuggestion>;
  active: number;
  onChoose: (suggestion: ISuggestion) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { id: listId, suggestions, active: activeSuggestion, trans } = props;
  return (
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
              props.onChoose(s);
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
  );
}
