from simstage.cli import main

main()
