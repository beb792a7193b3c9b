import postgres from 'postgres';

function create(url: string, options: { max?: number; applicationName?: string } = {}) {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // A database that does not answer is unavailable after this long, not a request that hangs.
    connect_timeout: 5,
    connection: { application_name: options.applicationName ?? 'netledger' },
    // int8 values (positions, counts) come back as bigint: the log cursor must never lose precision.
    types: { bigint: postgres.BigInt },
  });
}

export type Sql = ReturnType<typeof create>;
/** A connection that can run queries: the pool or a transaction. */
export type Queryable = Sql | postgres.TransactionSql<{ bigint: bigint }>;

export const connect = create;
