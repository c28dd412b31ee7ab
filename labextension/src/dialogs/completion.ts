/**
 * Completion of user and group names in the Share dialog, from the directory.
 */
import * as React from 'react';

import { ShareAPI } from '../api';

export interface ISuggestion {
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

/** The state of the completion list of a principal input. */
export interface ICompletion {
  /** What the directory suggests for the last text looked up. */
  suggestions: ISuggestion[];
  /** Whether the list is shown. */
  listOpen: boolean;
  setListOpen: (open: boolean) => void;
  /** The index of the highlighted suggestion; -1 for none. */
  active: number;
  setActive: React.Dispatch<React.SetStateAction<number>>;
  /** Look up what was typed, soon (a burst of keys looks up once). */
  lookUp: (text: string) => void;
  /** Close the list and drop any look-up under way. */
  close: () => void;
}

/**
 * The completion list of a principal input.
 *
 * @param exclude User names never suggested (me, the owner)
 */
export function useCompletion(
  api: ShareAPI,
  exclude: ReadonlyArray<string>
): ICompletion {
  const [suggestions, setSuggestions] = React.useState<ISuggestion[]>([]);
  const [listOpen, setListOpen] = React.useState(false);
  const [active, setActive] = React.useState(-1);
  const lookup = React.useRef(0);

  const lookUp = (text: string) => {
    const ticket = ++lookup.current;
    window.setTimeout(async () => {
      if (ticket !== lookup.current) {
        return;
      }
      try {
        const found = await suggest(api, text, exclude);
        if (ticket === lookup.current) {
          setSuggestions(previous => {
            const same =
              previous.length === found.length &&
              previous.every((s, i) => s.value === found[i].value);
            if (!same) {
              setActive(-1);
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

  const close = () => {
    setListOpen(false);
    lookup.current++;
  };

  return {
    suggestions,
    listOpen,
    setListOpen,
    active,
    setActive,
    lookUp,
    close
  };
}
