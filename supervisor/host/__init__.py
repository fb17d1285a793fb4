"""What the daemon reads of the machine: free disk space, its cores, a child's memory."""
