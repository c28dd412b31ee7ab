/**
 * The Sharing side panel, one part a file: the panel (sharingpanel), its
 * sections (section), their lists and rows, the badge, the status banner and
 * the words of a row (words).
 */
export { ResourceSection } from './section';
export { PANEL_ID, SharingPanel } from './sharingpanel';
export type { SectionSource } from './words';
export { specSummary, stoppedTitle } from './words';
