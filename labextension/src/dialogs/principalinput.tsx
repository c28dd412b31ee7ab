/**
 * The Share dialog's "User or group" input: a combobox completed from the
 * directory, with the keyboard of a completion list.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICompletion, ISuggestion } from './completion';
import { SuggestionList } from './suggestionlist';

export function PrincipalInput(props: {
  /** The input's DOM id. */
  id: string;
  /** The completion list's DOM id. */
  listId: string;
  inputRef: React.RefObject<HTMLInputElement>;
  value: string;
  setValue: (value: string) => void;
  completion: ICompletion;
  /** Enter without a highlighted suggestion: share. */
  onSubmit: () => void;
  invalid: boolean;
  /** The id of the error message that describes the input, if any. */
  describedBy?: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { completion, inputRef, listId, trans } = props;
  const { suggestions, listOpen, active: activeSuggestion } = completion;

  const choose = (suggestion: ISuggestion) => {
    props.setValue(suggestion.value);
    completion.close();
    completion.setActive(-1);
    inputRef.current?.focus();
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!listOpen && suggestions.length > 0) {
          completion.setListOpen(true);
        } else if (!listOpen) {
          completion.lookUp(props.value);
        }
        completion.setActive(i => Math.min(i + 1, suggestions.length - 1));
        break;
      case 'ArrowUp':
        event.preventDefault();
        completion.setActive(i => Math.max(i - 1, 0));
        break;
      case 'Escape':
        if (listOpen) {
          event.preventDefault();
          event.stopPropagation();
          completion.setListOpen(false);
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
          props.onSubmit();
        }
        break;
    }
  };

  return (
    <div className="jp-share-principal">
      <label htmlFor={props.id}>{trans.__('User or group')}</label>
      <input
        id={props.id}
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
        aria-invalid={props.invalid}
        aria-describedby={props.describedBy}
        value={props.value}
        onChange={event => {
          props.setValue(event.target.value);
          completion.lookUp(event.target.value);
        }}
        onBlur={() =>
          window.setTimeout(() => completion.setListOpen(false), 150)
        }
        onKeyDown={onKeyDown}
      />
      {listOpen && (
        <SuggestionList
          id={listId}
          suggestions={suggestions}
          active={activeSuggestion}
          onChoose={choose}
          trans={trans}
        />
      )}
    </div>
  );
}
