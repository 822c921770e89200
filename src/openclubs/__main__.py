from openclubs.cli.main import main

main()
