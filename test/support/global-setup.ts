// Replaced below once the database support exists.
export default async function setup(): Promise<void> {}
