import asyncpg


async def test_postgres_fixture_gives_an_empty_database(pg_url):
    conn = await asyncpg.connect(pg_url)
    try:
        n = await conn.fetchval("select count(*) from information_schema.tables where table_schema = 'public'")
    finally:
        await conn.close()
    assert n == 0
