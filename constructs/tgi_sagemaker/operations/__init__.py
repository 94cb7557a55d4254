"""Operations: alarms, the dashboard, the alarm topic and the functions' log groups of a deployment."""
