import DSMCommands

DSM.runFromCommandLine()
