from practice_es.commands.main import main

main()
