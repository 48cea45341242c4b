from holdall.cli.main import main

main()
