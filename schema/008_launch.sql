-- 008_launch.sql - how a configuration is started: the nodes one instance
-- spans, and the command each node runs (an instance larger than a node has
-- one command per node: vLLM's multi-node data parallelism or a Ray
-- cluster; planner/launch.h). Written by `scenario run` for every sized
-- configuration it stores.

ALTER TABLE run_config ADD COLUMN nodes INTEGER CHECK (nodes IS NULL OR nodes >= 1);
                                                -- nodes (of the GPU type's gpus_per_node) one instance spans

-- The command lines that start one stored configuration, node by node.
CREATE TABLE run_launch (
	run_id   INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id  INTEGER NOT NULL,
	rank     INTEGER NOT NULL,                -- run_config.rank of the configuration
	node     INTEGER NOT NULL CHECK (node >= 0), -- 0: the head node (API server)
	engine   TEXT NOT NULL CHECK (engine IN ('vllm', 'sglang', 'trtllm')),
	command  TEXT NOT NULL,                   -- one shell line; node 0's address is read from
	                                          -- $HEAD_IP on every node
	PRIMARY KEY (pool_id, rank, node),
	FOREIGN KEY (pool_id, rank) REFERENCES run_config(pool_id, rank) ON DELETE CASCADE
) STRICT;

-- The chosen configuration's commands of the latest run of every scenario.
CREATE VIEW v_launch AS
	SELECT l.scenario, w.name AS workload, p.pool, c.gpu_id AS gpu, c.gpus_per_instance,
	       c.nodes, x.node, x.engine, x.command, c.run_id
	  FROM run_launch x
	  JOIN run_config c ON c.pool_id = x.pool_id AND c.rank = x.rank
	  JOIN v_latest_run l ON l.run_id = c.run_id
	  JOIN run_pool p ON p.id = c.pool_id
	  JOIN workload w ON w.id = p.workload_id
	 WHERE c.chosen = 1
	 ORDER BY l.scenario, w.name, p.pool, x.node;
