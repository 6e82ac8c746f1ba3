DROP TABLE IF EXISTS {db}.transformation_executions;
