/**
 * The Sharing panel's model and the helpers around it, one concern a file:
 * the state (sharingmodel), words for people (words), what an access allows
 * (access), typed input (input) and lists kept across refreshes (lists).
 */
export * from './access';
export * from './input';
export * from './lists';
export * from './sharingmodel';
export * from './words';
